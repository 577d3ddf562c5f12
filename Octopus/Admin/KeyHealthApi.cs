using Octopus.Relay.Health;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>GET /channels/{id}/keys/health: each key's live state in the key pool (this instance's view) and its last validation probe.</summary>
internal static class KeyHealthApi
{
    public static void MapKeyHealth(this RouteGroupBuilder api)
    {
        api.MapGet("/channels/{id:long}/keys/health", async (long id, ChannelStore store, KeyPool pool, ProbeService probes, TimeProvider clock, CancellationToken ct) =>
        {
            if (await store.GetAsync(id, ct) is not { } channel) return ApiResults.NotFound("channel");
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            var results = probes.ResultsFor(channel.Id);
            var keys = new List<KeyHealthDto>();
            foreach (var key in channel.Keys)
            {
                var s = pool.StateOf(key);
                KeyHealthDto dto;
                lock (s)
                {
                    dto = new KeyHealthDto
                    {
                        Id = key.Id,
                        Key = KeyMask.Mask(key.Secret),
                        Enabled = key.Enabled,
                        State = !key.Enabled ? "disabled" : s.SetAside ? "set_aside" : s.CoolingUntil > now ? "cooling" : "active",
                        Reason = s.SetAside ? s.Reason : null,
                        SetAsideAt = s.SetAside ? Times.Format(s.SetAsideAt) : null,
                        CoolingUntil = s.CoolingUntil > now ? Times.Format(s.CoolingUntil) : null,
                        ConsecutiveFailures = s.ConsecutiveFailures,
                        Successes = s.Successes,
                        Failures = s.Failures,
                        LastError = s.LastError,
                        LastErrorAt = s.LastErrorAt > 0 ? Times.Format(s.LastErrorAt) : null,
                        LastUsedAt = s.LastUsedAt > 0 ? Times.Format(s.LastUsedAt) : null,
                        LastLatencyMs = s.LastLatencyMs > 0 ? s.LastLatencyMs : null,
                    };
                }
                if (results.FirstOrDefault(r => r.KeyId == key.Id) is { } probe)
                    dto.LastValidation = new KeyValidationDto(Times.Format(probe.At), probe.Status, probe.LatencyMs, probe.Error);
                keys.Add(dto);
            }
            return ApiResults.Json(new KeyHealthReply(channel.Id, channel.ProbePolicy, KeyPool.FailureThreshold, keys), AdminJsonContext.Default.KeyHealthReply);
        });
    }
}

internal sealed record KeyHealthReply(long ChannelId, string ProbePolicy, int FailureThreshold, List<KeyHealthDto> Keys);

internal sealed record KeyHealthDto
{
    public long Id { get; set; }
    public string Key { get; set; } = "";
    public bool Enabled { get; set; }
    /// <summary>active | cooling | set_aside | disabled</summary>
    public string State { get; set; } = "";
    public string? Reason { get; set; }
    public string? SetAsideAt { get; set; }
    public string? CoolingUntil { get; set; }
    public int ConsecutiveFailures { get; set; }
    public long Successes { get; set; }
    public long Failures { get; set; }
    public string? LastError { get; set; }
    public string? LastErrorAt { get; set; }
    public string? LastUsedAt { get; set; }
    public long? LastLatencyMs { get; set; }
    public KeyValidationDto? LastValidation { get; set; }
}

internal sealed record KeyValidationDto(string At, int Status, long LatencyMs, string? Error);
