namespace Octopus.Domain;

/// <summary>USD per million tokens for one model (and optionally per generated image).</summary>
internal sealed record Price
{
    public required string Model { get; init; }
    public double Input { get; init; }
    public double Output { get; init; }
    public double CacheRead { get; init; }
    public double CacheWrite { get; init; }
    /// <summary>USD per generated image (not per million); when set, an image request costs this per image instead of its tokens.</summary>
    public double Image { get; init; }
    /// <summary>synced (from the price source) | user (an override; wins over synced)</summary>
    public string Source { get; init; } = PriceSource.Synced;
    public long UpdatedAt { get; init; }
}

internal static class PriceSource
{
    public const string Synced = "synced";
    public const string User = "user";
}
