using System.Collections.Concurrent;
using Octopus.Domain;

namespace Octopus.Relay.Balancing;

/// <summary>Each request starts one member further along; the others follow in order as failover targets.</summary>
internal sealed class RoundRobinBalancer : IBalancer
{
    private readonly ConcurrentDictionary<string, StrongBox> _counters = new(StringComparer.Ordinal);

    public void Order(Group group, List<GroupMember> members)
    {
        if (members.Count < 2) return;
        var counter = _counters.GetOrAdd(group.Name, _ => new StrongBox());
        var start = (int)((ulong)(Interlocked.Increment(ref counter.Value) - 1) % (ulong)members.Count);
        if (start == 0) return;
        var rotated = members.Skip(start).Concat(members.Take(start)).ToArray();
        members.Clear();
        members.AddRange(rotated);
    }

    private sealed class StrongBox
    {
        public long Value;
    }
}
