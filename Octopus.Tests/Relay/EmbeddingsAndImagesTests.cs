using System.Net;
using System.Text;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Pricing;
using Octopus.Stats;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Relay;

/// <summary>
/// POST /v1/embeddings, POST /v1/images/generations and Gemini :embedContent / :batchEmbedContents routed by group
/// like chat: failover, key rotation, model rewrite, conversion between OpenAI and Gemini embeddings, usage and cost
/// in stats and the request log, errors in the client's shape.
/// </summary>
public sealed class EmbeddingsAndImagesTests
{
    private const string EmbeddingModel = "text-embedding-3-small";
    private const string ImageModel = "gpt-image-1";

    private static async Task<(RelayHost Host, MockUpstream Broken, MockUpstream Good, string Key)> FailoverSetupAsync(string group, string model)
    {
        var host = await StartAsync();
        var broken = await MockUpstream.StartAsync("broken");
        broken.Behave = _ => new MockUpstream.Reply { Status = 500, Body = Wire.OpenAIError("The server had an error while processing your request.", "server_error") };
        var good = await MockUpstream.StartAsync("good");
        var first = await host.AddChannelAsync("first", ChannelType.OpenAI, [broken.BaseUrl + "/v1"]);
        var second = await host.AddChannelAsync("second", ChannelType.OpenAI, [good.BaseUrl + "/v1"]);
        await host.AddGroupAsync(group, GroupMode.Failover, [Member(first, model, priority: 0), Member(second, model, priority: 1)]);
        return (host, broken, good, await host.AddApiKeyAsync());
    }

    private static async Task SetPriceAsync(RelayHost host, Price price)
    {
        await host.Get<PriceStore>().SetUserAsync(price, default);
        await host.Get<PriceBook>().ReloadAsync(default);
    }

    private static async Task<RequestLog> LoggedAsync(RelayHost host)
    {
        var store = host.Get<RequestLogStore>();
        for (var i = 0; i < 100; i++)
        {
            var page = await store.QueryAsync(new RequestLogFilter { Limit = 10 }, default);
            if (page.Items.Count > 0) return Assert.Single(page.Items);
            await Task.Delay(100);
        }
        throw new TimeoutException("the request was never logged");
    }

    private static async Task<StatsTotals> StatsAsync(RelayHost host, string group)
    {
        for (var i = 0; i < 100; i++)
        {
            await host.Get<StatsFlusher>().FlushAsync(default);
            var totals = await host.Get<StatsStore>().TotalsAsync(new StatsFilter { GroupName = group }, default);
            if (totals.Requests > 0) return totals;
            await Task.Delay(100);
        }
        throw new TimeoutException("the request never reached the stats");
    }

    private static float[][] Vectors(JsonElement sdkResult) =>
        sdkResult.GetProperty("vectors").EnumerateArray().Select(v => v.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();

    [Fact]
    public async Task Embeddings_fail_over_to_the_second_member_with_the_OpenAI_SDK_and_show_in_stats_and_log_with_cost()
    {
        var (host, broken, good, key) = await FailoverSetupAsync("embed", EmbeddingModel);
        await using var _ = host;
        await using var __ = broken;
        await using var ___ = good;
        await SetPriceAsync(host, new Price { Model = EmbeddingModel, Input = 100 });

        var r = await SdkClient.RunAsync("openai-embeddings", host.BaseUrl, key, "embed");
        var vectors = Vectors(r);
        Assert.Equal(WireOperations.Vector("hello"), vectors[0]);
        Assert.Equal(WireOperations.Vector("Octopus"), vectors[1]);
        Assert.Equal(2 * WireOperations.EmbeddingTokensPerInput, r.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        Assert.Equal("/v1/embeddings", Assert.Single(broken.Requests).Path);
        var sent = Assert.Single(good.Requests);
        Assert.Equal("/v1/embeddings", sent.Path);
        Assert.Equal(EmbeddingModel, sent.Json.GetProperty("model").GetString());
        Assert.Equal("base64", sent.Json.GetProperty("encoding_format").GetString());
        Assert.Equal("Bearer sk-upstream-second", sent.Headers["authorization"]);

        var tokens = 2 * WireOperations.EmbeddingTokensPerInput;
        var expectedCost = tokens * 100 / 1_000_000d;
        var log = await LoggedAsync(host);
        Assert.Equal(200, log.Status);
        Assert.Equal("second", log.ChannelName);
        Assert.Equal(EmbeddingModel, log.UpstreamModel);
        Assert.Equal(tokens, log.InputTokens);
        Assert.Equal(expectedCost, log.Cost, 9);
        Assert.Equal("openai_embeddings", log.ProtocolIn);
        Assert.Equal([500, 200], log.Attempts.Select(a => a.Status));

        var stats = await StatsAsync(host, "embed");
        Assert.Equal(1, stats.RequestsOk);
        Assert.Equal(tokens, stats.InputTokens);
        Assert.Equal(expectedCost, stats.Cost, 9);
    }

    [Fact]
    public async Task Image_generation_fails_over_to_the_second_member_with_the_OpenAI_SDK_and_is_priced_by_its_token_usage()
    {
        var (host, broken, good, key) = await FailoverSetupAsync("draw", ImageModel);
        await using var _ = host;
        await using var __ = broken;
        await using var ___ = good;
        await SetPriceAsync(host, new Price { Model = ImageModel, Input = 5, Output = 40 });

        var r = await SdkClient.RunAsync("openai-images", host.BaseUrl, key, "draw");
        Assert.Equal(2, r.GetProperty("count").GetInt32());
        Assert.Equal(Convert.ToBase64String(WireOperations.ImageBytes), r.GetProperty("b64")[1].GetString());
        Assert.Equal(2 * WireOperations.ImageOutputTokens, r.GetProperty("usage").GetProperty("output_tokens").GetInt32());

        Assert.Equal("/v1/images/generations", Assert.Single(broken.Requests).Path);
        var sent = Assert.Single(good.Requests);
        Assert.Equal("/v1/images/generations", sent.Path);
        Assert.Equal(ImageModel, sent.Json.GetProperty("model").GetString());
        Assert.Equal(2, sent.Json.GetProperty("n").GetInt32());

        var output = 2 * WireOperations.ImageOutputTokens;
        var expectedCost = (WireOperations.ImageInputTokens * 5 + output * 40) / 1_000_000d;
        var log = await LoggedAsync(host);
        Assert.Equal(200, log.Status);
        Assert.Equal("second", log.ChannelName);
        Assert.Equal(WireOperations.ImageInputTokens, log.InputTokens);
        Assert.Equal(output, log.OutputTokens);
        Assert.Equal(expectedCost, log.Cost, 9);
        Assert.Equal("openai_images", log.ProtocolIn);

        var stats = await StatsAsync(host, "draw");
        Assert.Equal(1, stats.RequestsOk);
        Assert.Equal(output, stats.OutputTokens);
        Assert.Equal(expectedCost, stats.Cost, 9);
    }

    [Fact]
    public async Task Images_without_token_usage_are_priced_per_image()
    {
        var host = await StartAsync();
        await using var _ = host;
        await using var mock = await MockUpstream.StartAsync("dalle");
        // DALL·E 3's reply: URLs and revised prompts, no usage.
        mock.Behave = _ => new MockUpstream.Reply
        {
            Body = """{"created":1713833628,"data":[{"url":"https://images.example/1.png","revised_prompt":"An octopus"},{"url":"https://images.example/2.png","revised_prompt":"An octopus"}]}""",
        };
        var ch = await host.AddChannelAsync("oai", ChannelType.OpenAI, [mock.BaseUrl + "/v1"]);
        await host.AddGroupAsync("dalle", GroupMode.Failover, [Member(ch, "dall-e-3")]);
        var key = await host.AddApiKeyAsync();
        await SetPriceAsync(host, new Price { Model = "dall-e-3", Image = 0.04 });

        using var res = await host.ClientFor(key).PostAsync("/v1/images/generations", Json("""{"model":"dalle","prompt":"An octopus","n":2}"""));
        Assert.True(res.IsSuccessStatusCode, await res.Content.ReadAsStringAsync());
        var log = await LoggedAsync(host);
        Assert.Equal(0, log.InputTokens + log.OutputTokens);
        Assert.Equal(0.08, log.Cost, 9);
        Assert.Equal(0.08, (await StatsAsync(host, "dalle")).Cost, 9);
    }

    [Fact]
    public async Task Embeddings_rotate_to_the_channels_next_key_when_one_is_refused()
    {
        var host = await StartAsync();
        await using var _ = host;
        await using var mock = await MockUpstream.StartAsync("keys");
        mock.Behave = req => req.Key == "sk-revoked" ? new MockUpstream.Reply { Status = 401, Body = Wire.OpenAIError("Incorrect API key provided", "invalid_request_error") } : null;
        var ch = await host.AddChannelAsync("keys", ChannelType.OpenAI, [mock.BaseUrl + "/v1"], keys: ["sk-revoked", "sk-valid"]);
        await host.AddGroupAsync("embed", GroupMode.Failover, [Member(ch, EmbeddingModel)]);
        var key = await host.AddApiKeyAsync();

        var r = await SdkClient.RunAsync("openai-embeddings-float", host.BaseUrl, key, "embed");
        Assert.Equal(WireOperations.Vector("hello"), Vectors(r)[0]);
        Assert.Equal(["sk-revoked", "sk-valid"], mock.Requests.Select(q => q.Key));
    }

    [Fact]
    public async Task OpenAI_SDK_embeddings_are_converted_to_batchEmbedContents_for_a_Gemini_channel()
    {
        var host = await StartAsync();
        await using var _ = host;
        await using var mock = await MockUpstream.StartAsync("gemini");
        var ch = await host.AddChannelAsync("gem", ChannelType.Gemini, [mock.BaseUrl + "/v1beta"]);
        await host.AddGroupAsync("embed", GroupMode.Failover, [Member(ch, "gemini-embedding-001")]);
        var key = await host.AddApiKeyAsync();

        var r = await SdkClient.RunAsync("openai-embeddings", host.BaseUrl, key, "embed");
        var vectors = Vectors(r);
        Assert.Equal(WireOperations.Vector("hello"), vectors[0]);
        Assert.Equal(WireOperations.Vector("Octopus"), vectors[1]);
        Assert.Equal("embed", r.GetProperty("model").GetString());

        var sent = Assert.Single(mock.Requests);
        Assert.Equal("/v1beta/models/gemini-embedding-001:batchEmbedContents", sent.Path);
        Assert.Equal("sk-upstream-gem", sent.Headers["x-goog-api-key"]);
        var requests = sent.Json.GetProperty("requests");
        Assert.Equal(2, requests.GetArrayLength());
        Assert.Equal("models/gemini-embedding-001", requests[1].GetProperty("model").GetString());
        Assert.Equal("Octopus", requests[1].GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString());

        var floats = await SdkClient.RunAsync("openai-embeddings-float", host.BaseUrl, key, "embed");
        Assert.Equal(WireOperations.Vector("hello"), Vectors(floats)[0]);
    }

    [Fact]
    public async Task Gemini_SDK_embedContent_reaches_an_OpenAI_channel_as_OpenAI_embeddings()
    {
        var host = await StartAsync();
        await using var _ = host;
        await using var mock = await MockUpstream.StartAsync("openai");
        var ch = await host.AddChannelAsync("oai", ChannelType.OpenAI, [mock.BaseUrl + "/v1"]);
        await host.AddGroupAsync("embed", GroupMode.Failover, [Member(ch, EmbeddingModel)]);
        var key = await host.AddApiKeyAsync();
        await SetPriceAsync(host, new Price { Model = EmbeddingModel, Input = 100 });

        var r = await SdkClient.RunAsync("gemini-embed", host.BaseUrl, key, "embed");
        var vectors = Vectors(r);
        Assert.Equal(WireOperations.Vector("hello"), vectors[0]);
        Assert.Equal(WireOperations.Vector("Octopus"), vectors[1]);

        var sent = Assert.Single(mock.Requests);
        Assert.Equal("/v1/embeddings", sent.Path);
        Assert.Equal(EmbeddingModel, sent.Json.GetProperty("model").GetString());
        Assert.Equal(["hello", "Octopus"], sent.Json.GetProperty("input").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("float", sent.Json.GetProperty("encoding_format").GetString());

        var log = await LoggedAsync(host);
        Assert.Equal("gemini_embeddings", log.ProtocolIn);
        Assert.Equal("openai_embeddings", log.ProtocolOut);
        Assert.Equal(2 * WireOperations.EmbeddingTokensPerInput, log.InputTokens);
        Assert.True(log.Cost > 0);
    }

    [Fact]
    public async Task Gemini_embedContent_answers_one_embedding_and_passes_through_to_a_Gemini_channel_with_the_model_rewritten()
    {
        var host = await StartAsync();
        await using var _ = host;
        await using var oaiMock = await MockUpstream.StartAsync("openai");
        await using var gemMock = await MockUpstream.StartAsync("gemini");
        var oai = await host.AddChannelAsync("oai", ChannelType.OpenAI, [oaiMock.BaseUrl + "/v1"]);
        var gem = await host.AddChannelAsync("gem", ChannelType.Gemini, [gemMock.BaseUrl + "/v1beta"]);
        await host.AddGroupAsync("via-openai", GroupMode.Failover, [Member(oai, EmbeddingModel)]);
        await host.AddGroupAsync("via-gemini", GroupMode.Failover, [Member(gem, "gemini-embedding-001")]);
        var key = await host.AddApiKeyAsync();
        using var client = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        client.DefaultRequestHeaders.Add("x-goog-api-key", key);

        using var single = await client.PostAsync("/v1beta/models/via-openai:embedContent",
            new StringContent("""{"content":{"parts":[{"text":"hello"}]},"outputDimensionality":3}""", Encoding.UTF8, "application/json"));
        var singleText = await single.Content.ReadAsStringAsync();
        Assert.True(single.IsSuccessStatusCode, singleText);
        var values = JsonDocument.Parse(singleText).RootElement.GetProperty("embedding").GetProperty("values");
        Assert.Equal(WireOperations.Vector("hello"), values.EnumerateArray().Select(x => x.GetSingle()));
        Assert.Equal(3, Assert.Single(oaiMock.Requests).Json.GetProperty("dimensions").GetInt32());

        const string batch = """{"requests":[{"model":"models/via-gemini","content":{"parts":[{"text":"hello"}]}},{"model":"models/via-gemini","content":{"parts":[{"text":"Octopus"}]}}]}""";
        using var passed = await client.PostAsync("/v1beta/models/via-gemini:batchEmbedContents", new StringContent(batch, Encoding.UTF8, "application/json"));
        var passedText = await passed.Content.ReadAsStringAsync();
        Assert.True(passed.IsSuccessStatusCode, passedText);
        Assert.Equal(2, JsonDocument.Parse(passedText).RootElement.GetProperty("embeddings").GetArrayLength());
        var sent = Assert.Single(gemMock.Requests);
        Assert.Equal("/v1beta/models/gemini-embedding-001:batchEmbedContents", sent.Path);
        Assert.Equal(batch.Replace("models/via-gemini", "models/gemini-embedding-001"), sent.BodyText);
    }

    [Fact]
    public async Task Embedding_and_image_errors_arrive_in_the_clients_shape()
    {
        var host = await StartAsync();
        await using var _ = host;
        await using var mock = await MockUpstream.StartAsync("m");
        var anthropic = await host.AddChannelAsync("claude-only", ChannelType.Anthropic, [mock.BaseUrl + "/v1"]);
        var gemini = await host.AddChannelAsync("gem", ChannelType.Gemini, [mock.BaseUrl + "/v1beta"]);
        var openai = await host.AddChannelAsync("oai", ChannelType.OpenAI, [mock.BaseUrl + "/v1"]);
        await host.AddGroupAsync("claude", GroupMode.Failover, [Member(anthropic)]);
        await host.AddGroupAsync("gem-images", GroupMode.Failover, [Member(gemini)]);
        await host.AddGroupAsync("draw", GroupMode.Failover, [Member(openai, ImageModel)]);
        var key = await host.AddApiKeyAsync();

        var missing = await SdkClient.RunAsync("openai-embeddings-error", host.BaseUrl, key, "no-such-group");
        Assert.Equal(404, missing.GetProperty("status").GetInt32());
        Assert.Contains("no-such-group", missing.GetProperty("error").GetString());

        var unsupported = await SdkClient.RunAsync("openai-embeddings-error", host.BaseUrl, key, "claude");
        Assert.Equal(503, unsupported.GetProperty("status").GetInt32());

        var http = host.ClientFor(key);
        using var images = await http.PostAsync("/v1/images/generations", Json("""{"model":"gem-images","prompt":"x"}"""));
        var imagesError = JsonDocument.Parse(await images.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, images.StatusCode);
        Assert.Contains("do not serve image generation", imagesError.GetProperty("message").GetString());
        Assert.Empty(mock.Requests);

        using var streamed = await http.PostAsync("/v1/images/generations", Json("""{"model":"draw","prompt":"x","stream":true}"""));
        Assert.Equal(HttpStatusCode.BadRequest, streamed.StatusCode);
        Assert.Contains("stream", JsonDocument.Parse(await streamed.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString());

        // The upstream's own 400 comes back as it sent it, without trying other members.
        using var bad = await http.PostAsync("/v1/images/generations", Json("""{"model":"draw"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("prompt", await bad.Content.ReadAsStringAsync());

        using var gem = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        gem.DefaultRequestHeaders.Add("x-goog-api-key", key);
        using var gemMissing = await gem.PostAsync("/v1beta/models/nope:embedContent", Json("""{"content":{"parts":[{"text":"hi"}]}}"""));
        Assert.Equal(HttpStatusCode.NotFound, gemMissing.StatusCode);
        var gemError = JsonDocument.Parse(await gemMissing.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(404, gemError.GetProperty("code").GetInt32());
        Assert.Equal("NOT_FOUND", gemError.GetProperty("status").GetString());
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
