namespace Octopus.Relay;

/// <summary>
/// Where finished requests go (stats, logs, metrics). Called once per request on the relay's path, so it must
/// only enqueue — never wait on the database.
/// </summary>
internal interface IRelayRecorder
{
    void Record(RelayRequest request);
}
