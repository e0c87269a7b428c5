using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;

namespace Bus.Gateway.Errors;

/// <summary>
/// Turns what ASP.NET Core refuses while reading a request (<see cref="BadHttpRequestException"/>: malformed or
/// mistyped JSON, unknown fields, a missing body, a wrong Content-Type, a body over the size limit) into a
/// problem+json answer with the status the framework chose (400, 413, 415) and, for JSON errors, the field it concerns.
/// Route handlers throw these in every environment (<c>RouteHandlerOptions.ThrowOnBadRequest</c>), so they arrive here
/// instead of turning into an empty 400 or, through the default handler, a 500.
/// </summary>
public sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
            return false;
        var json = Innermost<JsonException>(bad);
        context.Response.StatusCode = bad.StatusCode;
        // The rest of a body too large to read is still on the wire: the connection cannot carry another request.
        if (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
            context.Response.Headers.Connection = "close";
        var problem = json is not null
            ? new HttpValidationProblemDetails(new Dictionary<string, string[]> { [Field(json.Path)] = [Describe(json)] })
            {
                Title = "The request body is not a valid job request.",
                Detail = "Fix the fields listed in errors; fields this API does not define are refused.",
            }
            : new Microsoft.AspNetCore.Mvc.ProblemDetails { Title = Title(bad.StatusCode), Detail = Detail(bad) };
        problem.Status = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    static T? Innermost<T>(Exception e) where T : Exception
    {
        T? found = null;
        for (Exception? current = e; current is not null; current = current.InnerException)
            if (current is T match)
                found = match;
        return found;
    }

    /// <summary><c>$.resources.cpus</c> becomes <c>resources.cpus</c>; the body as a whole is <c>body</c>.</summary>
    static string Field(string? path) => path is null or "$" ? "body" : path.StartsWith("$.") ? path[2..] : path.TrimStart('$');

    static string Describe(JsonException e)
    {
        var message = e.Message;
        if (UnmappedMember().Match(message) is { Success: true } unknown)
            return $"unknown field '{unknown.Groups[1].Value}'; see docs/api.md for the fields of a job request.";
        if (ConversionTarget().Match(message) is { Success: true } conversion)
            return $"must be {Expected(conversion.Groups[1].Value)}.";
        // The reader's own words (invalid JSON, depth, duplicates), without the position suffix that repeats the path.
        var at = message.IndexOf(" Path:", StringComparison.Ordinal);
        return at > 0 ? message[..at] : message;
    }

    static string Expected(string type) => type switch
    {
        _ when type.Contains("System.Int32") => "a whole number from -2147483648 to 2147483647",
        _ when type.Contains("System.String[]") => "an array of strings",
        _ when type.Contains("System.String") => "a string",
        _ when type.Contains("System.Boolean") => "true or false",
        _ => "of the documented type and within its range",
    };

    static string Title(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
        StatusCodes.Status415UnsupportedMediaType => "The request body must be JSON.",
        _ => "The request is malformed.",
    };

    static string Detail(BadHttpRequestException e) => e.StatusCode switch
    {
        StatusCodes.Status415UnsupportedMediaType => e.Message.StartsWith("JSON bodies", StringComparison.Ordinal)
            ? e.Message
            : "Send the body with Content-Type: application/json.",
        StatusCodes.Status413PayloadTooLarge => "The body exceeds the size limit documented in docs/api.md.",
        _ when e.Message.StartsWith("Implicit body inferred", StringComparison.Ordinal) || e.Message.Contains("no body was provided")
            => "A JSON body is required.",
        _ => e.Message,
    };

    [GeneratedRegex("The JSON property '(.{0,200}?)' could not be mapped")]
    private static partial Regex UnmappedMember();

    [GeneratedRegex(@"could not be converted to ([^\s]+?)\. ")]
    private static partial Regex ConversionTarget();
}
