using System.Collections.Concurrent;

namespace Octopus.Relay.Health;

/// <summary>A group member whose attempts were all exhausted rests for the group's cooldown.</summary>
internal sealed class MemberCooldowns(TimeProvider clock)
{
    private readonly ConcurrentDictionary<(long Group, long Channel, string Model), long> _until = new();

    public bool IsCooling(long groupId, long channelId, string model) =>
        _until.TryGetValue((groupId, channelId, model), out var until) && until > clock.GetUtcNow().ToUnixTimeMilliseconds();

    public void CoolDown(long groupId, long channelId, string model, TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero) return;
        _until[(groupId, channelId, model)] = clock.GetUtcNow().Add(duration).ToUnixTimeMilliseconds();
    }

    public void Clear(long groupId, long channelId, string model) => _until.TryRemove((groupId, channelId, model), out _);
}
