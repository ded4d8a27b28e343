import CZstd

/// Finds where zstd frames end without decoding them, so a log can be walked frame by frame:
/// a reader keeps every whole frame, and a writer reopening a log cuts a torn last frame off.
///
/// ```swift
/// switch ZstdFrame.size(in: bytes) {
/// case let .whole(n): …        // bytes[..<n] is one frame (or one skippable frame)
/// case .incomplete: …          // read more; at the end of the file this is a torn tail
/// case let .invalid(why): …    // not a frame: DATA_LOSS
/// }
/// ```
public enum ZstdFrame {
    public enum Size: Sendable, Hashable {
        /// The buffer starts with a whole frame of this many bytes.
        case whole(Int)
        /// The buffer starts with a frame that goes on past its end.
        case incomplete
        /// The buffer does not start with a zstd frame.
        case invalid(String)
    }

    /// The size of the frame at the start of `bytes`.
    public static func size(in bytes: UnsafeRawBufferPointer) -> Size {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .incomplete }
        let result = ZSTD_findFrameCompressedSize(base, bytes.count)
        if ZSTD_isError(result) == 0 { return .whole(result) }
        if ZSTD_getErrorCode(result) == ZSTD_error_srcSize_wrong { return .incomplete }
        return .invalid(String(cString: ZSTD_getErrorName(result)))
    }
}
