using System.Collections.Frozen;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;

namespace Octopus.Ui;

/// <summary>
/// The admin bundle (Octopus.Admin.Ui/dist, embedded as manifest resources named <see cref="ResourcePrefix"/> + path),
/// read once at start-up into an immutable path → asset table. `FILE.gz` / `FILE.br` made at build time become
/// the variants of FILE rather than files of their own.
/// </summary>
internal sealed class UiAssetTable
{
    public const string ResourcePrefix = "OctopusUi/";

    private readonly FrozenDictionary<string, UiAsset> _assets;

    private UiAssetTable(FrozenDictionary<string, UiAsset> assets) => _assets = assets;

    public int Count => _assets.Count;

    public UiAsset? Index => _assets.GetValueOrDefault("/index.html");

    public bool TryGet(string path, out UiAsset asset) => _assets.TryGetValue(path, out asset!);

    public IEnumerable<UiAsset> All => _assets.Values;

    public static UiAssetTable FromAssembly(Assembly assembly)
    {
        var files = new List<KeyValuePair<string, byte[]>>();
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            // RecursiveDir uses the build machine's separator.
            files.Add(new("/" + name[ResourcePrefix.Length..].Replace('\\', '/'), bytes));
        }
        return FromFiles(files, inflateGzipOnly: true);
    }

    /// <summary>
    /// Builds the table from (request path, bytes) pairs, e.g. `/assets/app.js`, `/assets/app.js.br`. With
    /// <paramref name="inflateGzipOnly"/> (the embedded bundle, whose raw copies the build leaves out) `FILE.gz` without
    /// `FILE` stands for FILE, inflated here once.
    /// </summary>
    public static UiAssetTable FromFiles(IEnumerable<KeyValuePair<string, byte[]>> files, bool inflateGzipOnly = false)
    {
        var all = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (path, bytes) in files) all[path] = bytes;
        if (inflateGzipOnly)
        {
            foreach (var (path, bytes) in all.ToArray())
                if (path.EndsWith(".gz", StringComparison.Ordinal) && !all.ContainsKey(path[..^3]))
                    all[path[..^3]] = Gunzip(bytes);
        }

        var assets = new Dictionary<string, UiAsset>(StringComparer.Ordinal);
        foreach (var (path, bytes) in all)
        {
            if (IsVariant(path, all)) continue;
            all.TryGetValue(path + ".gz", out var gz);
            all.TryGetValue(path + ".br", out var br);
            assets[path] = new UiAsset
            {
                Path = path,
                Content = bytes,
                // A variant is only worth sending when it is smaller.
                Gzip = gz is not null && gz.Length < bytes.Length ? gz : null,
                Brotli = br is not null && br.Length < bytes.Length ? br : null,
                ContentType = ContentTypes.For(path),
                ETag = MakeETag(bytes),
                Immutable = path.StartsWith("/assets/", StringComparison.Ordinal),
            };
        }
        return new UiAssetTable(assets.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private static byte[] Gunzip(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var output = new MemoryStream(gz.Length * 4);
        input.CopyTo(output);
        return output.ToArray();
    }

    private static bool IsVariant(string path, Dictionary<string, byte[]> all) =>
        (path.EndsWith(".gz", StringComparison.Ordinal) || path.EndsWith(".br", StringComparison.Ordinal))
        && all.ContainsKey(path[..^3]);

    private static string MakeETag(byte[] bytes)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return "\"" + Convert.ToBase64String(hash[..12]).Replace('+', '-').Replace('/', '_') + "\"";
    }
}
