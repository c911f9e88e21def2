import os

from setuptools import find_packages, setup

here = os.path.dirname(os.path.abspath(__file__))
version = {}
with open(os.path.join(here, "paddlevideo", "version.py"), encoding="utf-8") as f:
    exec(f.read(), version)  # the file only assigns __version__
with open(os.path.join(here, "requirements.txt"), encoding="utf-8") as f:
    requirements = [line.strip() for line in f if line.strip() and not line.startswith("#")]
with open(os.path.join(here, "README.md"), encoding="utf-8") as f:
    long_description = f.read()

setup(
    name="paddlevideo",
    version=version["__version__"],
    description="PaddleVideo's TSN (Temporal Segment Networks) on PaddlePaddle 3: same configs, CLI and checkpoints",
    long_description=long_description,
    long_description_content_type="text/markdown",
    packages=find_packages(include=["paddlevideo", "paddlevideo.*"]),
    python_requires=">=3.8",
    # Paddle is deliberately not pinned: install paddlepaddle (CPU) or paddlepaddle-gpu yourself.
    install_requires=requirements,
    extras_require={
        "decord": ["decord>=0.6"],
        "av": ["av>=10"],
        "onnx": ["paddle2onnx>=1.2", "onnxruntime>=1.16"],
        "plot": ["matplotlib>=3.5"],
        "serve": ["fastapi>=0.100", "uvicorn>=0.30", "python-multipart>=0.0.18"],
    },
    license="Apache-2.0",
)
