using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Admin;

public sealed class SqliteImagePriceApiTests : ImagePriceApiTests
{
    internal override DbKind Kind => DbKind.Sqlite;
}

public sealed class PostgresImagePriceApiTests : ImagePriceApiTests
{
    internal override DbKind Kind => DbKind.Postgres;
}

public sealed class MySqlImagePriceApiTests : ImagePriceApiTests
{
    internal override DbKind Kind => DbKind.MySql;
}

/// <summary>The per-image price (migration 4's `prices.image`) through the prices API and backups.</summary>
public abstract class ImagePriceApiTests : AdminTestBase
{
    [Fact]
    public async Task Per_image_price_is_stored_returned_backed_up_and_validated()
    {
        var (status, price) = await Admin.PutJsonAsync("/api/v1/prices/dall-e-3", J("""{"input":0,"output":0,"image":0.04}"""));
        Assert.True(status == 200, price?.ToJsonString());
        Assert.Equal(0.04, price!["image"]!.GetValue<double>());
        Assert.Equal(0.04, (await Admin.GetJsonAsync("/api/v1/prices")).Body!.AsArray().Single(p => p!["model"]!.GetValue<string>() == "dall-e-3")!["image"]!.GetValue<double>());

        // Token prices alone still work and read back a 0 image price.
        var tokens = await Admin.PutJsonAsync("/api/v1/prices/gpt-image-1", J("""{"input":5,"output":40}"""));
        Assert.Equal(0, tokens.Body!["image"]!.GetValue<double>());

        var backup = (await Admin.GetJsonAsync("/api/v1/backup")).Body!;
        Assert.Equal(0.04, backup["prices"]!.AsArray().Single(p => p!["model"]!.GetValue<string>() == "dall-e-3")!["image"]!.GetValue<double>());
        Assert.Equal(200, (await Admin.PostJsonAsync("/api/v1/backup", J("""{"version":1}"""))).Status);
        Assert.Equal(200, (await Admin.PostJsonAsync("/api/v1/backup", backup)).Status);
        Assert.Equal(0.04, (await Admin.GetJsonAsync("/api/v1/prices")).Body!.AsArray().Single(p => p!["model"]!.GetValue<string>() == "dall-e-3")!["image"]!.GetValue<double>());

        AssertError(400, "validation_failed", await Admin.PutJsonAsync("/api/v1/prices/x", J("""{"input":0,"output":0,"image":-1}""")), "image");
    }
}
