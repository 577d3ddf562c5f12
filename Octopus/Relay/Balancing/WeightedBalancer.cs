using Octopus.Domain;

namespace Octopus.Relay.Balancing;

/// <summary>Weighted random order: the first member is drawn with probability weight/total, then the next from the rest.</summary>
internal sealed class WeightedBalancer : IBalancer
{
    public void Order(Group group, List<GroupMember> members)
    {
        if (members.Count < 2) return;
        var pool = members.ToList();
        members.Clear();
        while (pool.Count > 0)
        {
            long total = 0;
            foreach (var m in pool) total += Math.Max(0, m.Weight);
            int pick;
            if (total == 0) pick = 0;
            else
            {
                var r = System.Random.Shared.NextInt64(total);
                pick = 0;
                for (; pick < pool.Count; pick++)
                {
                    r -= Math.Max(0, pool[pick].Weight);
                    if (r < 0) break;
                }
            }
            members.Add(pool[pick]);
            pool.RemoveAt(pick);
        }
    }
}
