using Kvasir.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Kvasir.Server.Endpoints;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: the one served model.</summary>
internal sealed class ModelsEndpoint(ServingContext serving)
{
    public async Task ListAsync(HttpContext http)
    {
        using var json = new PooledJson();
        var w = json.Writer;
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        WriteModel(json);
        w.WriteEndArray();
        w.WriteEndObject();
        http.Response.ContentType = "application/json";
        await json.CopyToAsync(http.Response, http.RequestAborted).ConfigureAwait(false);
    }

    public async Task GetAsync(HttpContext http)
    {
        var id = http.Request.RouteValues["id"] as string;
        serving.CheckModel(id);
        using var json = new PooledJson();
        WriteModel(json);
        http.Response.ContentType = "application/json";
        await json.CopyToAsync(http.Response, http.RequestAborted).ConfigureAwait(false);
    }

    private void WriteModel(PooledJson json)
    {
        var w = json.Writer;
        w.WriteStartObject();
        w.WriteString("id", serving.ModelName);
        w.WriteString("object", "model");
        w.WriteNumber("created", serving.Created);
        w.WriteString("owned_by", "kvasir");
        w.WriteString("root", serving.ModelName);
        w.WriteNull("parent");
        w.WriteNumber("max_model_len", serving.Engine.MaxModelLen);
        w.WriteEndObject();
    }
}
