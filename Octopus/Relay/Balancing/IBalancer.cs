using Octopus.Domain;

namespace Octopus.Relay.Balancing;

/// <summary>Orders a group's members for one request: the first is tried first, the rest are failover targets.</summary>
internal interface IBalancer
{
    void Order(Group group, List<GroupMember> members);
}

internal static class Balancers
{
    private static readonly IBalancer RoundRobin = new RoundRobinBalancer();
    private static readonly IBalancer Random = new RandomBalancer();
    private static readonly IBalancer Failover = new FailoverBalancer();
    private static readonly IBalancer Weighted = new WeightedBalancer();
    private static readonly IBalancer Manual = new ManualBalancer();

    public static IBalancer For(GroupMode mode) => mode switch
    {
        GroupMode.Random => Random,
        GroupMode.Failover => Failover,
        GroupMode.Weighted => Weighted,
        GroupMode.Manual => Manual,
        _ => RoundRobin,
    };
}
