using System.Text;

namespace Bus.Worker.Execution;

/// <summary>
/// The last <c>capacity</c> bytes of a process's combined stdout and stderr, kept in a fixed ring: memory is bounded
/// whatever the job prints, even one endless line with no newline. Thread-safe, because stdout and stderr are read
/// on different threads.
/// </summary>
public sealed class OutputTail(int capacity)
{
    readonly byte[] _ring = new byte[capacity];
    readonly Lock _lock = new();
    long _written;

    /// <summary>Bytes the job wrote in all, kept or not.</summary>
    public long Written
    {
        get { lock (_lock) return _written; }
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (capacity == 0)
            return;
        lock (_lock)
        {
            _written += bytes.Length;
            if (bytes.Length > capacity)
                bytes = bytes[^capacity..];
            var at = (int)((_written - bytes.Length) % capacity);
            var first = Math.Min(bytes.Length, capacity - at);
            bytes[..first].CopyTo(_ring.AsSpan(at));
            bytes[first..].CopyTo(_ring);
        }
    }

    /// <summary>Copies a stream into the tail until it ends, a chunk at a time.</summary>
    public async Task Pump(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            Append(buffer.AsSpan(0, read));
    }

    /// <summary>
    /// The tail as text: valid UTF-8 of at most <c>capacity</c> bytes. A character cut by the start of the tail is
    /// dropped, and bytes that are not UTF-8 become U+FFFD (then the oldest characters go, to stay within the cap).
    /// </summary>
    public override string ToString()
    {
        byte[] bytes;
        lock (_lock)
        {
            var length = (int)Math.Min(_written, capacity);
            bytes = new byte[length];
            var start = (int)((_written - length) % Math.Max(capacity, 1));
            var first = Math.Min(length, capacity - start);
            _ring.AsSpan(start, first).CopyTo(bytes);
            _ring.AsSpan(0, length - first).CopyTo(bytes.AsSpan(first));
        }
        var skip = 0;
        while (skip < bytes.Length && skip < 3 && (bytes[skip] & 0xC0) == 0x80)
            skip++;
        var text = Encoding.UTF8.GetString(bytes, skip, bytes.Length - skip);
        var excess = Encoding.UTF8.GetByteCount(text) - capacity;
        if (excess <= 0)
            return text;
        var cut = 0;
        while (excess > 0)
        {
            var size = char.IsHighSurrogate(text[cut]) ? 2 : 1;
            excess -= Encoding.UTF8.GetByteCount(text.AsSpan(cut, size));
            cut += size;
        }
        return text[cut..];
    }
}
