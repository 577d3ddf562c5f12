namespace Octopus.Ui;

/// <summary>One file of the admin bundle, held in memory with its precompressed variants.</summary>
internal sealed class UiAsset
{
    /// <summary>Request path, e.g. `/index.html`, `/assets/index-Bkn6K96k.js`.</summary>
    public required string Path { get; init; }
    public required byte[] Content { get; init; }
    public byte[]? Gzip { get; init; }
    public byte[]? Brotli { get; init; }
    public required string ContentType { get; init; }
    /// <summary>Strong validator of the uncompressed bytes (quoted); each encoding gets its own suffix.</summary>
    public required string ETag { get; init; }
    /// <summary>Content-hashed by Vite (under /assets/): cacheable forever.</summary>
    public bool Immutable { get; init; }

    public (byte[] Body, string? Encoding, string ETag) Select(ContentCoding coding) => coding switch
    {
        ContentCoding.Brotli when Brotli is not null => (Brotli, "br", ETag[..^1] + "-br\""),
        ContentCoding.Gzip when Gzip is not null => (Gzip, "gzip", ETag[..^1] + "-gz\""),
        _ => (Content, null, ETag),
    };

    public bool HasVariants => Gzip is not null || Brotli is not null;
}
