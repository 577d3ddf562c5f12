namespace Octopus.Storage.Migrations;

/// <summary>One schema change. Applied once, in version order, each in its own transaction.</summary>
internal sealed record Migration(int Version, string Name, IReadOnlyList<MigrationStep> Steps);

internal abstract record MigrationStep;

/// <summary>
/// SQL for every dialect, with type placeholders: {id} auto-increment primary key, {pk} app-minted BIGINT primary
/// key, {bool}, {str} (indexable text), {text} (long text), {real}, {opts} (MySQL table options).
/// </summary>
internal sealed record SqlStep(string Sql) : MigrationStep;

/// <summary>A secondary index; created only when missing (MySQL lacks CREATE INDEX IF NOT EXISTS).</summary>
internal sealed record IndexStep(string Name, string Table, string Columns) : MigrationStep;

/// <summary>Drops a secondary index if it is there (MySQL lacks DROP INDEX IF EXISTS).</summary>
internal sealed record DropIndexStep(string Name, string Table) : MigrationStep;
