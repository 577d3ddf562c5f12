namespace Octopus.Admin;

/// <summary>Every admin error is `{"error":{"code","message"}}` with a fitting status; built only here.</summary>
internal static class ApiResults
{
    public static IResult Error(int status, string code, string message, Dictionary<string, string>? fields = null) =>
        TypedResults.Json(new ErrorReply(new ErrorBody(code, message) { Fields = fields }), AdminJsonContext.Default.ErrorReply, statusCode: status);

    public static IResult NotFound(string what) => Error(404, "not_found", $"{what} not found");

    public static IResult Unauthorized(string message = "missing, invalid or expired token") => Error(401, "unauthorized", message);

    /// <summary>400 naming every bad field at once.</summary>
    public static IResult Invalid(IReadOnlyDictionary<string, string> errors) =>
        Error(400, "validation_failed", string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}")), new Dictionary<string, string>(errors));

    public static IResult Invalid(string field, string problem) => Invalid(new Dictionary<string, string> { [field] = problem });

    public static IResult Unprocessable(string field, string problem) =>
        Error(422, "unprocessable", $"{field}: {problem}", new Dictionary<string, string> { [field] = problem });

    public static IResult Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, int status = 200) =>
        TypedResults.Json(value, type, statusCode: status);
}
