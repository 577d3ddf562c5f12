using System.Buffers;
using Octopus.Relay;

namespace Octopus.Tests.Relay;

public sealed class PooledBufferWriterTests
{
    [Fact]
    public void Writes_past_every_growth_keep_all_bytes_in_order()
    {
        using var w = new PooledBufferWriter(16);
        var expected = new List<byte>();
        // Spans that straddle the end of the buffer (WriteMultiSegment), exact fits, and size hints bigger than it.
        foreach (var n in new[] { 10, 6, 1, 40, 1000, 3, 70_000 })
        {
            var chunk = Enumerable.Range(0, n).Select(i => (byte)(i * 7 + n)).ToArray();
            w.Write(chunk);
            expected.AddRange(chunk);
        }
        var span = w.GetSpan(200_000);
        Assert.True(span.Length >= 200_000);
        span[0] = 42;
        w.Advance(1);
        expected.Add(42);
        var memory = w.GetMemory();
        Assert.False(memory.IsEmpty);
        Assert.Equal(expected.ToArray(), w.WrittenSpan.ToArray());

        w.ResetWrittenCount();
        Assert.Equal(0, w.WrittenCount);
        w.Write("data: x\n\n"u8);
        Assert.Equal("data: x\n\n"u8.ToArray(), w.WrittenSpan.ToArray());
        Assert.Throws<InvalidOperationException>(() => w.Advance(w.GetSpan().Length + 1));
    }
}
