namespace Octopus.Protocols.Conversion;

/// <summary>A body that cannot be read in its protocol. The relay answers 400 in the client's error shape.</summary>
internal sealed class ProtocolException(string message) : Exception(message);
