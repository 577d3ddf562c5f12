using System.Text.Json.Serialization;

namespace Octopus.Tests.Protocols;

/// <summary>Source-generated JSON for the few values tests serialise (no reflection JSON anywhere).</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class ProtocolTestJson : JsonSerializerContext;
