namespace Octopus.Protocols.Conversion;

/// <summary>A client request (or upstream reply) that does not fit its protocol; the client gets a 400 in its own shape.</summary>
internal sealed class ProtocolException(string message) : Exception(message);
