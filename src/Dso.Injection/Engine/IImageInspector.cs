namespace Dso.Injection.Engine;

/// <summary>Reads images' configs from the engine (the process boundary tests can replace).</summary>
internal interface IImageInspector
{
    /// <summary>The image's config, or null when the engine does not have the image.</summary>
    Task<ImageConfig?> InspectAsync(string image, CancellationToken cancellationToken);
}
