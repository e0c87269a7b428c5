using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace Bus.Gateway.Errors;

/// <summary>
/// Checks on a request body made from its headers alone, before a byte of it is read, each a
/// <see cref="BadHttpRequestException"/> that <see cref="BadRequestExceptionHandler"/> answers:
/// <list type="bullet">
/// <item>413 when Content-Length already exceeds the endpoint's size limit. Kestrel enforces the same limit on bodies
/// of unknown length while reading; this makes the answer the same under every server (the in-process test server
/// has no limit of its own).</item>
/// <item>415 when the Content-Type names a charset other than UTF-8: JSON is UTF-8 (RFC 8259), and the framework
/// would otherwise fail on an unknown charset with a 500.</item>
/// </list>
/// </summary>
public static class RequestBodyChecks
{
    public static IApplicationBuilder UseRequestBodyChecks(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (request.ContentLength is { } length
            && context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize is { } max
            && length > max)
            throw new BadHttpRequestException($"The body is {length} bytes; this endpoint reads at most {max}.", StatusCodes.Status413PayloadTooLarge);
        if (request.ContentType is { } contentType
            && MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            && mediaType.Charset.HasValue
            && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            && !mediaType.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            throw new BadHttpRequestException("JSON bodies must be UTF-8: send charset=utf-8 or no charset.", StatusCodes.Status415UnsupportedMediaType);
        await next(context);
    });
}
