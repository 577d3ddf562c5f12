using System.Text.Json;
using Octopus.Protocols;
using Octopus.Relay.Routing;

namespace Octopus.Relay;

internal static class RelayEndpoints
{
    public static void MapRelay(this WebApplication app)
    {
        var relay = app.Services.GetRequiredService<RelayHandler>();

        app.MapPost("/v1/chat/completions", (HttpContext http) => relay.HandleAsync(http, ApiProtocol.OpenAIChat));
        app.MapPost("/v1/responses", (HttpContext http) => relay.HandleAsync(http, ApiProtocol.OpenAIResponses));
        app.MapPost("/v1/messages", (HttpContext http) => relay.HandleAsync(http, ApiProtocol.Anthropic));
        app.MapPost("/v1/messages/count_tokens", CountTokensEndpoint.HandleAsync);
        app.MapPost("/v1/embeddings", (HttpContext http) => relay.HandleAsync(http, ApiProtocol.OpenAIChat, operation: RelayOperation.Embeddings));
        app.MapPost("/v1/images/generations", (HttpContext http) => relay.HandleAsync(http, ApiProtocol.OpenAIChat, operation: RelayOperation.Images));

        // Gemini puts the model and the action in the path: /v1beta/models/{model}:generateContent. The official SDK
        // uses /v1/models/... when given a custom base URL, so both prefixes are served.
        Task Gemini(HttpContext http, string target)
        {
            var colon = target.LastIndexOf(':');
            var model = colon > 0 ? target[..colon] : target;
            var action = colon > 0 ? target[(colon + 1)..] : "";
            return action switch
            {
                "generateContent" => relay.HandleAsync(http, ApiProtocol.Gemini, model, pathStream: false),
                "streamGenerateContent" => relay.HandleAsync(http, ApiProtocol.Gemini, model, pathStream: true),
                "embedContent" => relay.HandleAsync(http, ApiProtocol.Gemini, model, operation: RelayOperation.Embeddings),
                "batchEmbedContents" => relay.HandleAsync(http, ApiProtocol.Gemini, model, operation: RelayOperation.Embeddings, geminiBatch: true),
                _ => WriteGeminiNotFound(http, action),
            };
        }
        app.MapPost("/v1beta/models/{*target}", Gemini);
        app.MapPost("/v1/models/{*target}", Gemini);

        var snapshots = app.Services.GetRequiredService<SnapshotService>();
        var clock = app.Services.GetRequiredService<TimeProvider>();
        app.MapGet("/v1/models", (HttpContext http) => ListModelsAsync(http, snapshots.Current, clock,
            http.Request.Headers.ContainsKey("anthropic-version") ? ApiProtocol.Anthropic
            : http.Request.Headers.ContainsKey("x-goog-api-key") || http.Request.Query.ContainsKey("key") ? ApiProtocol.Gemini
            : ApiProtocol.OpenAIChat));
        app.MapGet("/v1beta/models", (HttpContext http) => ListModelsAsync(http, snapshots.Current, clock, ApiProtocol.Gemini));
    }

    private static async Task WriteGeminiNotFound(HttpContext http, string action)
    {
        http.Response.StatusCode = 404;
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(ProtocolErrors.Body(ApiProtocol.Gemini, 404,
            $"unsupported method '{action}': use generateContent, streamGenerateContent, embedContent or batchEmbedContents"));
    }

    /// <summary>The groups (and exact aliases) this key may use and the admin marked visible, in the client's list shape.</summary>
    private static async Task ListModelsAsync(HttpContext http, RelaySnapshot snapshot, TimeProvider clock, ApiProtocol shape)
    {
        if (ClientAuth.Check(snapshot, ClientAuth.ExtractKey(http.Request), clock.GetUtcNow().ToUnixTimeMilliseconds(), out var key) is { } problem)
        {
            http.Response.StatusCode = 401;
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(ProtocolErrors.Body(shape, 401, problem));
            return;
        }

        var names = new List<(string Name, long Created)>();
        foreach (var g in snapshot.GroupList)
            if (g.Visible && ClientAuth.MayUse(key!, g)) names.Add((g.Name, g.CreatedAt));
        foreach (var (alias, g) in snapshot.ExactAliases)
            if (g.Visible && ClientAuth.MayUse(key!, g)) names.Add((alias, g.CreatedAt));
        names.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        http.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(http.Response.Body);
        w.WriteStartObject();
        switch (shape)
        {
            case ApiProtocol.Anthropic:
                w.WriteStartArray("data");
                foreach (var (name, created) in names)
                {
                    w.WriteStartObject();
                    w.WriteString("type", "model");
                    w.WriteString("id", name);
                    w.WriteString("display_name", name);
                    w.WriteString("created_at", DateTimeOffset.FromUnixTimeMilliseconds(created).ToString("yyyy-MM-ddTHH:mm:ssZ"));
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteBoolean("has_more", false);
                if (names.Count > 0)
                {
                    w.WriteString("first_id", names[0].Name);
                    w.WriteString("last_id", names[^1].Name);
                }
                else
                {
                    w.WriteNull("first_id");
                    w.WriteNull("last_id");
                }
                break;
            case ApiProtocol.Gemini:
                w.WriteStartArray("models");
                foreach (var (name, _) in names)
                {
                    w.WriteStartObject();
                    w.WriteString("name", "models/" + name);
                    w.WriteString("displayName", name);
                    w.WriteStartArray("supportedGenerationMethods");
                    w.WriteStringValue("generateContent");
                    w.WriteStringValue("streamGenerateContent");
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            default:
                w.WriteString("object", "list");
                w.WriteStartArray("data");
                foreach (var (name, created) in names)
                {
                    w.WriteStartObject();
                    w.WriteString("id", name);
                    w.WriteString("object", "model");
                    w.WriteNumber("created", created / 1000);
                    w.WriteString("owned_by", "octopus");
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
        }
        w.WriteEndObject();
    }
}
