using System.Text.Json;
using Octopus.Settings;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>GET/PUT /settings: every registry setting with its current value (secrets masked); PUT is partial and returns all.</summary>
internal static class SettingsApi
{
    public static void MapSettings(this RouteGroupBuilder api)
    {
        api.MapGet("/settings", (SettingsService settings) => Reply(settings.Values));
        api.MapPut("/settings", async (HttpContext ctx, SettingStore store, SettingsService settings) =>
        {
            var (input, error) = await JsonInput.ReadAsync(ctx, SettingsRegistry.All.Select(d => d.Name).ToArray());
            if (error is not null) return error;
            var changes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var d in SettingsRegistry.All)
            {
                if (input!.Element(d.Name) is not { } value)
                {
                    if (input.Present(d.Name)) input.Fail(d.Name, "must not be null");
                    continue;
                }
                // A masked secret sent back as shown (a form saved without touching it) leaves the stored value alone.
                if (d.Mask is { } mask && value.ValueKind == JsonValueKind.String && KeyMask.IsMaskOf(value.GetString(), settings.Values[d.Name], mask)) continue;
                if (SettingsRegistry.FromJson(d, value, out var stored) is { } problem) input.Fail(d.Name, problem);
                else changes[d.Name] = stored;
            }
            if (!input!.IsValid) return ApiResults.Invalid(input.Errors);
            if (changes.Count > 0)
            {
                await store.SetAsync(changes, ctx.RequestAborted);
                await settings.ReloadAsync(ctx.RequestAborted);
                await AdminEndpoints.ConfigChangedAsync(ctx);
            }
            return Reply(settings.Values);
        });
    }

    private static IResult Reply(IReadOnlyDictionary<string, string> values)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            foreach (var d in SettingsRegistry.All) SettingsRegistry.WriteJson(w, d, values[d.Name]);
            w.WriteEndObject();
        }
        return Results.Bytes(ms.ToArray(), "application/json");
    }
}
