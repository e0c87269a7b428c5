using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Bus.Gateway.OpenApi;

/// <summary>
/// An enum schema lists its names only. The generator writes a nullable enum property as "null, or the enum", and
/// also puts null into the enum's own list; a null value then matches both branches of that <c>oneOf</c>, which a
/// validator must refuse. The enum keeps its names; the property says where null is allowed.
/// </summary>
public sealed class NullableEnums : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
        if (type.IsEnum && schema.Enum is { } names)
            schema.Enum = names.Where(n => n is not null).ToList();
        return Task.CompletedTask;
    }
}
