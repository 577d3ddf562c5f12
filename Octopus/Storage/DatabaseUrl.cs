using System.Text;
#if !SQLITE_ONLY
using MySqlConnector;
using Npgsql;
#endif
using Octopus.Hosting;

namespace Octopus.Storage;

/// <summary>
/// Turns the user's database.url into a driver connection string. Accepts what people bring: PostgreSQL URLs and
/// key=value strings (libpq or Npgsql style); MySQL Go-style DSNs (`user:pass@tcp(host:port)/db?opts`, from the
/// original Octopus), mysql:// URLs and standard connection strings. Errors never repeat the password.
/// </summary>
internal static class DatabaseUrl
{
    /// <summary>A parsed target: the connection string and a description safe to log (no password).</summary>
    internal sealed record Target(string ConnectionString, string Description);

#if !SQLITE_ONLY
    public static Target ParsePostgres(string url)
    {
        url = url.Trim();
        if (url.Length == 0) throw Bad("postgres", "it is empty", url);
        var b = new NpgsqlConnectionStringBuilder();
        try
        {
            if (url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            {
                var u = ParseUrl(url, "postgres", 5432);
                b.Host = u.Host;
                b.Port = u.Port;
                if (u.User is not null) b.Username = u.User;
                if (u.Password is not null) b.Password = u.Password;
                if (u.Database is not null) b.Database = u.Database;
                foreach (var (k, v) in u.Query) ApplyPostgresOption(b, k, v, url);
            }
            else if (url.Contains(';'))
            {
                b.ConnectionString = url; // Npgsql style: Host=...;Username=...
            }
            else if (url.Contains('='))
            {
                foreach (var (k, v) in SplitLibpq(url, url)) ApplyPostgresOption(b, k, v, url);
            }
            else
            {
                throw Bad("postgres", "expected postgresql://user:pass@host:port/db or host=... user=... dbname=...", url);
            }
        }
        catch (StartupException) { throw; }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException or KeyNotFoundException)
        {
            throw Bad("postgres", Scrub(e.Message, b.Password, url), url);
        }
        if (string.IsNullOrEmpty(b.Host)) throw Bad("postgres", "no host given", url);
        if (string.IsNullOrEmpty(b.Database)) throw Bad("postgres", "no database name given", url);
        return new Target(b.ConnectionString, $"postgres {b.Host}:{b.Port}/{b.Database}");
    }

    public static Target ParseMySql(string url)
    {
        url = url.Trim();
        if (url.Length == 0) throw Bad("mysql", "it is empty", url);
        var b = new MySqlConnectionStringBuilder();
        try
        {
            if (url.StartsWith("mysql://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("mariadb://", StringComparison.OrdinalIgnoreCase))
            {
                var u = ParseUrl(url, "mysql", 3306);
                b.Server = u.Host;
                b.Port = (uint)u.Port;
                if (u.User is not null) b.UserID = u.User;
                if (u.Password is not null) b.Password = u.Password;
                if (u.Database is not null) b.Database = u.Database;
                foreach (var (k, v) in u.Query) ApplyMySqlOption(b, k, v, url);
            }
            else if (TryParseGoDsn(url, out var dsn))
            {
                b.Server = dsn.Host;
                b.Port = (uint)dsn.Port;
                if (dsn.User is not null) b.UserID = dsn.User;
                if (dsn.Password is not null) b.Password = dsn.Password;
                if (dsn.Database is not null) b.Database = dsn.Database;
                foreach (var (k, v) in dsn.Query) ApplyMySqlOption(b, k, v, url);
            }
            else if (url.Contains('='))
            {
                b.ConnectionString = url; // Server=...;User ID=...;Password=...;Database=...
            }
            else
            {
                throw Bad("mysql", "expected user:pass@tcp(host:port)/db, mysql://user:pass@host:port/db or Server=...;Database=...", url);
            }
        }
        catch (StartupException) { throw; }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException or KeyNotFoundException)
        {
            throw Bad("mysql", Scrub(e.Message, b.Password, url), url);
        }
        if (string.IsNullOrEmpty(b.Server)) throw Bad("mysql", "no host given", url);
        if (string.IsNullOrEmpty(b.Database)) throw Bad("mysql", "no database name given", url);
        // Dates are stored as unix ms, so Go's parseTime/loc need no counterpart; keep the wire in utf8mb4.
        b.CharacterSet = "utf8mb4";
        return new Target(b.ConnectionString, $"mysql {b.Server}:{b.Port}/{b.Database}");
    }

#endif

    private sealed record UrlParts(string Host, int Port, string? User, string? Password, string? Database, List<(string, string)> Query);

    /// <summary>scheme://[user[:pass]@]host[:port][/db][?k=v&amp;...]; user and password are percent-decoded.</summary>
    private static UrlParts ParseUrl(string url, string kind, int defaultPort)
    {
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var query = new List<(string, string)>();
        var q = rest.IndexOf('?');
        if (q >= 0)
        {
            query = SplitQuery(rest[(q + 1)..], url, kind);
            rest = rest[..q];
        }
        string? user = null, password = null;
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var cred = rest[..at];
            rest = rest[(at + 1)..];
            var colon = cred.IndexOf(':');
            user = Uri.UnescapeDataString(colon >= 0 ? cred[..colon] : cred);
            if (colon >= 0) password = Uri.UnescapeDataString(cred[(colon + 1)..]);
        }
        string? database = null;
        var slash = rest.IndexOf('/');
        if (slash >= 0)
        {
            database = Uri.UnescapeDataString(rest[(slash + 1)..]);
            rest = rest[..slash];
            if (database.Length == 0) database = null;
        }
        var (host, port) = SplitHostPort(rest, defaultPort, kind, url, password);
        return new UrlParts(host, port, user, password, database, query);
    }

    /// <summary>Go's go-sql-driver DSN: [user[:password]@][tcp[(host[:port])]]/dbname[?param=value].</summary>
    private static bool TryParseGoDsn(string dsn, out UrlParts parts)
    {
        parts = null!;
        var slash = dsn.LastIndexOf('/');
        if (slash < 0) return false;
        var head = dsn[..slash];
        var tail = dsn[(slash + 1)..];
        var at = head.LastIndexOf('@');
        var cred = at >= 0 ? head[..at] : null;
        var addr = at >= 0 ? head[(at + 1)..] : head;
        // The address part must look like tcp(host:port), unix(...) is not supported, or be empty (localhost).
        string host = "127.0.0.1";
        var port = 3306;
        if (addr.Length > 0)
        {
            if (!addr.StartsWith("tcp(", StringComparison.OrdinalIgnoreCase) || !addr.EndsWith(')')) return false;
            var inner = addr[4..^1];
            if (inner.Length > 0) (host, port) = SplitHostPort(inner, 3306, "mysql", dsn, null);
        }
        else if (cred is null && !dsn.StartsWith('/'))
        {
            return false;
        }
        string? user = null, password = null;
        if (cred is not null)
        {
            var colon = cred.IndexOf(':');
            user = colon >= 0 ? cred[..colon] : cred;
            if (colon >= 0) password = cred[(colon + 1)..];
        }
        var query = new List<(string, string)>();
        var q = tail.IndexOf('?');
        if (q >= 0)
        {
            query = SplitQuery(tail[(q + 1)..], dsn, "mysql");
            tail = tail[..q];
        }
        parts = new UrlParts(host, port, user, password, tail.Length == 0 ? null : tail, query);
        return true;
    }

    private static (string Host, int Port) SplitHostPort(string hostPort, int defaultPort, string kind, string url, string? password)
    {
        string host = hostPort;
        var port = defaultPort;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']');
            if (close < 0) throw Bad(kind, "unclosed [ in the host", url);
            host = hostPort[1..close];
            var after = hostPort[(close + 1)..];
            if (after.StartsWith(':')) port = ParsePort(after[1..], kind, url);
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            if (colon >= 0)
            {
                host = hostPort[..colon];
                port = ParsePort(hostPort[(colon + 1)..], kind, url);
            }
        }
        if (host.Length == 0) throw Bad(kind, "no host given", url);
        return (host, port);
    }

    private static int ParsePort(string text, string kind, string url) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536
            ? p
            : throw Bad(kind, "the port must be a number from 1 to 65535", url);

    private static List<(string, string)> SplitQuery(string query, string url, string kind)
    {
        var list = new List<(string, string)>();
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw Bad(kind, $"option '{Uri.UnescapeDataString(pair)}' has no value", url);
            list.Add((Uri.UnescapeDataString(pair[..eq]), Uri.UnescapeDataString(pair[(eq + 1)..])));
        }
        return list;
    }

    /// <summary>libpq: `host=h port=5432 user=u password='p w' dbname=d`.</summary>
    private static List<(string, string)> SplitLibpq(string text, string url)
    {
        var list = new List<(string, string)>();
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length) break;
            var start = i;
            while (i < text.Length && text[i] != '=' && !char.IsWhiteSpace(text[i])) i++;
            var key = text[start..i];
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length || text[i] != '=') throw Bad("postgres", $"'{key}' has no value", url);
            i++;
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            var value = new StringBuilder();
            if (i < text.Length && text[i] == '\'')
            {
                i++;
                while (i < text.Length && text[i] != '\'')
                {
                    if (text[i] == '\\' && i + 1 < text.Length) i++;
                    value.Append(text[i++]);
                }
                if (i >= text.Length) throw Bad("postgres", "unclosed quote", url);
                i++;
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]))
                {
                    if (text[i] == '\\' && i + 1 < text.Length) i++;
                    value.Append(text[i++]);
                }
            }
            list.Add((key, value.ToString()));
        }
        return list;
    }

#if !SQLITE_ONLY
    private static void ApplyPostgresOption(NpgsqlConnectionStringBuilder b, string key, string value, string url)
    {
        switch (key.ToLowerInvariant())
        {
            case "host" or "hostaddr": b.Host = value; break;
            case "port": b.Port = ParsePort(value, "postgres", url); break;
            case "user" or "username": b.Username = value; break;
            case "password": b.Password = value; break;
            case "dbname" or "database": b.Database = value; break;
            case "sslmode":
                b.SslMode = value.ToLowerInvariant() switch
                {
                    "disable" => SslMode.Disable,
                    "allow" => SslMode.Allow,
                    "prefer" => SslMode.Prefer,
                    "require" => SslMode.Require,
                    "verify-ca" => SslMode.VerifyCA,
                    "verify-full" => SslMode.VerifyFull,
                    _ => throw Bad("postgres", $"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full", url),
                };
                break;
            case "connect_timeout": b.Timeout = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "application_name": b.ApplicationName = value; break;
            case "search_path": b.SearchPath = value; break;
            case "timezone" or "timezone_name": break; // times are unix ms; the session zone does not matter
            default: throw Bad("postgres", $"unknown option '{key}'", url);
        }
    }

    private static void ApplyMySqlOption(MySqlConnectionStringBuilder b, string key, string value, string url)
    {
        switch (key.ToLowerInvariant())
        {
            // Go driver options with no meaning here (we store unix ms and always talk utf8mb4).
            case "parsetime" or "loc" or "charset" or "collation" or "timeout" or "readtimeout" or "writetimeout"
                or "allownativepasswords" or "multistatements" or "interpolateparams" or "maxallowedpacket" or "columnswithalias":
                break;
            case "tls" or "ssl-mode" or "sslmode":
                b.SslMode = value.ToLowerInvariant() switch
                {
                    "false" or "disable" or "disabled" or "none" => MySqlSslMode.None,
                    "preferred" or "prefer" or "skip-verify" => MySqlSslMode.Preferred,
                    "true" or "required" or "require" => MySqlSslMode.Required,
                    "verify-ca" or "verify_ca" => MySqlSslMode.VerifyCA,
                    "verify-full" or "verify_identity" => MySqlSslMode.VerifyFull,
                    _ => throw Bad("mysql", $"tls '{value}' is not one of false, preferred, true, skip-verify", url),
                };
                break;
            default: throw Bad("mysql", $"unknown option '{key}'", url);
        }
    }

#endif

    private static StartupException Bad(string kind, string reason, string url) =>
        new($"database.url is not a valid {kind} connection URL or string: {reason}");

    /// <summary>Driver messages may echo the input; make sure no secret part of it survives.</summary>
    private static string Scrub(string message, string? password, string url)
    {
        if (!string.IsNullOrEmpty(password)) message = message.Replace(password, "***", StringComparison.Ordinal);
        // A key=value string we failed to parse may carry a password we never extracted.
        foreach (var token in url.Split([';', ' ', '&', '?', '@', '/', ':'], StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = token.IndexOf('=');
            if (eq > 0 && token[..eq].Trim().ToLowerInvariant() is "password" or "pwd")
            {
                var secret = token[(eq + 1)..].Trim().Trim('\'', '"');
                if (secret.Length > 0) message = message.Replace(secret, "***", StringComparison.Ordinal);
            }
        }
        var firstLine = message.Split('\n')[0].Trim();
        return firstLine.Length > 200 ? firstLine[..200] : firstLine;
    }
}
