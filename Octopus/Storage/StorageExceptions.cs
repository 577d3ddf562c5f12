namespace Octopus.Storage;

/// <summary>A unique column already holds the value; <see cref="Field"/> names it (e.g. `name`).</summary>
internal sealed class DuplicateNameException(string entity, string field, Exception? inner = null)
    : Exception($"a {entity} with this {field.Replace('_', ' ')} already exists", inner)
{
    /// <summary>channel, group, api key, admin user, price, ...</summary>
    public string Entity { get; } = entity;
    /// <summary>The request field that clashes: name, username, key_hash, model.</summary>
    public string Field { get; } = field;
}

/// <summary>The database cannot be reached (down, refused, timed out). The message carries no secrets.</summary>
internal sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
