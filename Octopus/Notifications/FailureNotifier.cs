using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Octopus.Relay;
using Octopus.Relay.Health;
using Octopus.Relay.Routing;
using Octopus.Settings;

namespace Octopus.Notifications;

/// <summary>
/// Optional failure webhook (settings `notify_webhook_*`): a notice when a key or a whole channel is set aside or
/// every member of a group failed a request. Rate-limited per event and subject and in total; sent by a background
/// loop from a small bounded queue, so the relay never waits on it. Notices carry names and ids, never secrets:
/// upstream error text is scrubbed of anything that looks like a key.
/// </summary>
internal sealed class FailureNotifier : IAsyncDisposable
{
    private readonly SettingsService _settings;
    private readonly SnapshotService _snapshots;
    private readonly KeyPool _keys;
    private readonly UpstreamClients _clients;
    private readonly TimeProvider _clock;
    private readonly ILogger<FailureNotifier> _log;
    private readonly Channel<Notice> _queue = System.Threading.Channels.Channel.CreateBounded<Notice>(
        new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Dictionary<string, long> _lastBySubject = new(StringComparer.Ordinal);
    private readonly Queue<long> _sentLastHour = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <summary>Notices sent successfully and dropped by the rate limit, since start (for tests and logs).</summary>
    public long Sent => Interlocked.Read(ref _sent);
    public long Suppressed => Interlocked.Read(ref _suppressed);
    private long _sent;
    private long _suppressed;

    public FailureNotifier(SettingsService settings, SnapshotService snapshots, KeyPool keys, UpstreamClients clients, TimeProvider clock, ILogger<FailureNotifier> log)
    {
        _settings = settings;
        _snapshots = snapshots;
        _keys = keys;
        _clients = clients;
        _clock = clock;
        _log = log;
        keys.KeyStatusChanged += OnKeyStatusChanged;
        _loop = Task.Run(SendLoopAsync);
    }

    public sealed record Notice(string Event, string Subject, string Message, long At);

    private void OnKeyStatusChanged(long keyId, string status, string? reason)
    {
        if (status != Domain.KeyStatus.SetAside) return;
        foreach (var channel in _snapshots.Current.Channels.Values)
        {
            var key = channel.Keys.FirstOrDefault(k => k.Id == keyId);
            if (key is null) continue;
            var why = SecretScrubber.Scrub(reason ?? "", channel);
            Post("key_set_aside", $"channel '{channel.Name}' key #{keyId}", $"Upstream key #{keyId} of channel '{channel.Name}' was set aside: {why}");
            // The last usable key gone: the channel is out of the rotation until one recovers.
            if (channel.Keys.Where(k => k.Enabled).All(k => _keys.StateOf(k).SetAside))
                Post("channel_set_aside", $"channel '{channel.Name}'", $"Channel '{channel.Name}' has no usable key left: every enabled key is set aside (last: {why})");
            return;
        }
    }

    /// <summary>Every member of a group failed one request (the client got an error).</summary>
    public void GroupFailed(string group, int status, string detail) =>
        Post("group_failed", $"group '{group}'", $"Every member of group '{group}' failed a request ({status}): {SecretScrubber.Scrub(detail, null)}");

    private void Post(string kind, string subject, string message)
    {
        var s = _settings.Current;
        if (s.NotifyWebhookUrl.Length == 0) return;
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_lastBySubject)
        {
            var id = kind + "\n" + subject;
            if (_lastBySubject.TryGetValue(id, out var last) && now - last < s.NotifyIntervalMinutes * 60_000L)
            {
                Interlocked.Increment(ref _suppressed);
                return;
            }
            while (_sentLastHour.Count > 0 && now - _sentLastHour.Peek() >= 3_600_000) _sentLastHour.Dequeue();
            if (_sentLastHour.Count >= s.NotifyMaxPerHour)
            {
                Interlocked.Increment(ref _suppressed);
                return;
            }
            if (!_queue.Writer.TryWrite(new Notice(kind, subject, message, now)))
            {
                Interlocked.Increment(ref _suppressed);
                return;
            }
            _lastBySubject[id] = now;
            _sentLastHour.Enqueue(now);
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach (var notice in _queue.Reader.ReadAllAsync(_stop.Token))
            {
                var s = _settings.Current;
                if (s.NotifyWebhookUrl.Length == 0) continue;
                try
                {
                    await SendAsync(s.NotifyWebhookUrl, s.NotifyWebhookFormat, notice, _stop.Token);
                    Interlocked.Increment(ref _sent);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException or InvalidOperationException && !_stop.IsCancellationRequested)
                {
                    _log.LogWarning("Failure notification ({Event}) could not be sent: {Error}", notice.Event, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SendAsync(string url, string format, Notice notice, CancellationToken ct)
    {
        var (method, target) = (HttpMethod.Post, url);
        if (format == "matrix" && new Uri(url) is var u && u.AbsolutePath.TrimEnd('/').EndsWith("/send/m.room.message", StringComparison.Ordinal))
        {
            // The Matrix client-server API sends a room message with PUT and a transaction id of our choosing.
            method = HttpMethod.Put;
            target = new UriBuilder(u) { Path = u.AbsolutePath.TrimEnd('/') + "/octopus-" + notice.At + "-" + Random.Shared.Next(1_000_000) }.Uri.ToString();
        }
        using var req = new HttpRequestMessage(method, target)
        {
            Content = new ByteArrayContent(Body(format, notice)),
        };
        req.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        using var res = await _clients.For(null).SendAsync(req, cts.Token);
        if (!res.IsSuccessStatusCode) throw new HttpRequestException($"webhook answered {(int)res.StatusCode}");
    }

    /// <summary>The webhook body in the chosen format.</summary>
    internal static byte[] Body(string format, Notice notice)
    {
        var text = $"[Octopus] {notice.Message}";
        var buffer = new ArrayBufferWriter<byte>(256 + notice.Message.Length);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            switch (format)
            {
                case "feishu":
                    w.WriteString("msg_type", "text");
                    w.WriteStartObject("content");
                    w.WriteString("text", text);
                    w.WriteEndObject();
                    break;
                case "matrix":
                    w.WriteString("msgtype", "m.text");
                    w.WriteString("body", text);
                    break;
                default:
                    w.WriteString("source", "octopus");
                    w.WriteString("event", notice.Event);
                    w.WriteString("subject", notice.Subject);
                    w.WriteString("message", notice.Message);
                    w.WriteString("time", DateTimeOffset.FromUnixTimeMilliseconds(notice.At).ToString("yyyy-MM-ddTHH:mm:ss.fffZ"));
                    break;
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _stop.CancelAfter(TimeSpan.FromSeconds(2));
        try { await _loop; } catch (OperationCanceledException) { }
        _keys.KeyStatusChanged -= OnKeyStatusChanged;
        _stop.Dispose();
    }
}
