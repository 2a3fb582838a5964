using Docker.DotNet;

namespace Dso.Injection.Engine;

/// <summary>Image configs through the Engine API (Docker.DotNet), on the endpoint DSO resolved.</summary>
internal sealed class EngineImageInspector(EngineEndpoint endpoint) : IImageInspector, IDisposable
{
    private readonly DockerClient _client = new DockerClientBuilder().WithEndpoint(new Uri(endpoint.Host)).Build();

    public async Task<ImageConfig?> InspectAsync(string image, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.Images.InspectImageAsync(image, cancellationToken);
            var config = response.Config;
            return new ImageConfig(config?.Entrypoint?.ToList(), config?.Cmd?.ToList(), config?.User);
        }
        catch (DockerImageNotFoundException)
        {
            return null;
        }
        catch (HttpRequestException e)
        {
            throw new DsoException($"cannot reach the Docker engine at {endpoint.Host}: {e.Message}; is dockerd running?");
        }
    }

    public void Dispose() => _client.Dispose();
}
