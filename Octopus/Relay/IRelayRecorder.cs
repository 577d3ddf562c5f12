namespace Octopus.Relay;

/// <summary>
/// Where finished requests go (stats, logs, metrics). Called once per request on the relay's path, so it must
/// only enqueue — never wait on the database.
/// </summary>
internal interface IRelayRecorder
{
    void Record(RelayRequest request);

    /// <summary>False while body capture is off: the relay then keeps no copy of what it streamed to the client.</summary>
    bool CapturesBodies { get; }
}
