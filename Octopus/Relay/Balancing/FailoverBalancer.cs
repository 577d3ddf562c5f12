using Octopus.Domain;

namespace Octopus.Relay.Balancing;

/// <summary>Lowest priority number first; equal priorities keep the configured order.</summary>
internal sealed class FailoverBalancer : IBalancer
{
    public void Order(Group group, List<GroupMember> members)
    {
        var sorted = members.OrderBy(m => m.Priority).ToArray(); // stable
        members.Clear();
        members.AddRange(sorted);
    }
}
