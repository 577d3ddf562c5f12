using Octopus.Domain;

namespace Octopus.Stats;

/// <summary>Counts held in memory and not yet written to the database; totals add them to what is stored.</summary>
internal interface IUnflushedStats
{
    IReadOnlyCollection<StatsDelta> Pending();
}
