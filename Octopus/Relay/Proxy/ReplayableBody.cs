namespace Octopus.Relay.Proxy;

/// <summary>
/// The client's request body, streamed to the upstream as it arrives, with the bytes already sent kept (up to a cap)
/// so a failed attempt can be replayed to the next upstream. Whatever the total size, failover stays possible as long
/// as the failed attempt consumed no more than the cap; past it, the body cannot be sent again.
/// </summary>
internal sealed class ReplayableBody(Stream source, int cap)
{
    private readonly MemoryStream _prefix = new();
    private bool _sourceDone;
    private int _readers;

    /// <summary>True while everything read so far is kept: a new attempt can send the body from its start.</summary>
    public bool CanReplay { get; private set; } = true;

    public long BytesRead { get; private set; }

    /// <summary>A fresh reader from the start of the body. Only one attempt reads at a time.</summary>
    public Stream Open()
    {
        if (!CanReplay) throw new InvalidOperationException("the request body was larger than the replay buffer and is gone");
        _readers++;
        return new Reader(this, _readers);
    }

    private async ValueTask<int> ReadAtAsync(long position, Memory<byte> buffer, CancellationToken ct)
    {
        if (position < _prefix.Length)
        {
            var n = (int)Math.Min(buffer.Length, _prefix.Length - position);
            _prefix.GetBuffer().AsMemory((int)position, n).CopyTo(buffer);
            return n;
        }
        if (_sourceDone) return 0;
        var read = await source.ReadAsync(buffer, ct);
        if (read == 0)
        {
            _sourceDone = true;
            return 0;
        }
        BytesRead += read;
        if (CanReplay)
        {
            if (_prefix.Length + read <= cap) _prefix.Write(buffer.Span[..read]);
            else
            {
                CanReplay = false;
                _prefix.SetLength(0);
                _prefix.Capacity = 0;
            }
        }
        return read;
    }

    private sealed class Reader(ReplayableBody body, int generation) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            // An older attempt's reader (its request already abandoned) must not steal bytes from the current one.
            if (generation != body._readers) return 0;
            var n = await body.ReadAtAsync(_position, buffer, ct);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, default).GetAwaiter().GetResult();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
