using System.Buffers;

namespace Octopus.Relay;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> on arrays rented from the shared pool: the stream relay's per-read staging
/// buffer, which an ArrayBufferWriter would allocate (zeroed) and regrow for every streamed request.
/// </summary>
internal sealed class PooledBufferWriter(int initialSize) : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(initialSize);
    private int _written;

    public int WrittenCount => _written;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public void ResetWrittenCount() => _written = 0;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + count > _buffer.Length) throw new InvalidOperationException("advanced past the buffer");
        _written += count;
    }

    // Ensure first: it may swap _buffer, which `_buffer.AsSpan(Ensure(...))` would have read before the call.
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        var start = Ensure(sizeHint);
        return _buffer.AsMemory(start);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        var start = Ensure(sizeHint);
        return _buffer.AsSpan(start);
    }

    /// <summary>Makes room for at least <paramref name="sizeHint"/> (or 1) more bytes; returns where they start.</summary>
    private int Ensure(int sizeHint)
    {
        var need = _written + Math.Max(sizeHint, 1);
        if (need > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, _buffer.Length * 2));
            _buffer.AsSpan(0, _written).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        return _written;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _written = 0;
    }
}
