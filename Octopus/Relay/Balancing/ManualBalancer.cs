using Octopus.Domain;

namespace Octopus.Relay.Balancing;

/// <summary>Only the pinned member serves; switching is the admin's decision, not the relay's.</summary>
internal sealed class ManualBalancer : IBalancer
{
    public void Order(Group group, List<GroupMember> members)
    {
        var pinned = members.FirstOrDefault(m => m.Pinned) ?? members.FirstOrDefault();
        members.Clear();
        if (pinned is not null) members.Add(pinned);
    }
}
