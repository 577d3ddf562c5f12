using Octopus.Domain;

namespace Octopus.Relay.Balancing;

/// <summary>Uniformly shuffled order.</summary>
internal sealed class RandomBalancer : IBalancer
{
    public void Order(Group group, List<GroupMember> members)
    {
        for (var i = members.Count - 1; i > 0; i--)
        {
            var j = System.Random.Shared.Next(i + 1);
            (members[i], members[j]) = (members[j], members[i]);
        }
    }
}
