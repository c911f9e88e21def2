"""The packet index of a video (frame timestamps and keyframes), read by demuxing without decoding."""
from typing import NamedTuple, Optional


class PacketIndex(NamedTuple):
    """Frame timing from a container's packets: ``pts[i]`` (stream units) and ``pts_ms[i]`` of frame ``i``
    in presentation order, and the sorted presentation indices of the keyframes."""
    pts: list
    pts_ms: list
    keyframes: list


def keyframe_map(filename) -> Optional[PacketIndex]:
    """Read the packet index of ``filename``'s video stream with PyAV (demux only, no decoding).

    None without PyAV, without timestamps, or when the file cannot be demuxed.
    """
    try:
        import av
    except ImportError:
        return None
    try:
        with av.open(filename) as container:
            stream = container.streams.video[0]
            packets = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size]
            time_base = float(stream.time_base)
    except Exception:  # unreadable by PyAV: decoders fall back to sequential decoding
        return None
    if not packets or any(pts is None for pts, _ in packets):
        return None
    order = sorted(pts for pts, _ in packets)
    index = {pts: i for i, pts in enumerate(order)}
    if len(index) != len(order):
        return None
    return PacketIndex(order, [pts * time_base * 1000.0 for pts in order],
                       sorted(index[pts] for pts, key in packets if key))
