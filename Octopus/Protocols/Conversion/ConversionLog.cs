using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Octopus.Protocols.Conversion;

/// <summary>
/// Debug log for what conversion drops (fields a target cannot express). Static because the codecs are static;
/// hosting sets <see cref="Logger"/> once at startup.
/// </summary>
internal static class ConversionLog
{
    public static ILogger Logger { get; set; } = NullLogger.Instance;

    public static void Dropped(string what)
    {
        if (Logger.IsEnabled(LogLevel.Debug)) Logger.LogDebug("Protocol conversion dropped {What}", what);
    }
}
