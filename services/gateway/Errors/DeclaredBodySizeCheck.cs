using Microsoft.AspNetCore.Http.Metadata;

namespace Bus.Gateway.Errors;

/// <summary>
/// Refuses with 413 a body whose Content-Length already exceeds its endpoint's size limit, before a byte of it is read.
/// Kestrel enforces the same limit on bodies of unknown length while they are read; this makes the answer the same
/// under every server (the in-process test server enforces no limit of its own).
/// </summary>
public static class DeclaredBodySizeCheck
{
    public static IApplicationBuilder UseDeclaredBodySizeCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.ContentLength is { } length
            && context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize is { } max
            && length > max)
            throw new BadHttpRequestException($"The body is {length} bytes; this endpoint reads at most {max}.", StatusCodes.Status413PayloadTooLarge);
        await next(context);
    });
}
