namespace Octopus.Domain;

internal sealed record AdminUser
{
    public long Id { get; init; }
    public required string Username { get; init; }
    /// <summary>Self-describing slow hash, e.g. `pbkdf2-sha256$600000$salt$hash`.</summary>
    public required string PasswordHash { get; init; }
    public bool MustChangePassword { get; init; }
    /// <summary>Bumped on password change; tokens carry it, so old tokens stop working.</summary>
    public long TokenVersion { get; init; }
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }
}
