using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Dso.Plugins;
using Dso.Providers.Plugins;

namespace Dso.Providers.Aws;

/// <summary>The host's AWS credentials as the SDK finds them, for Secrets Manager and for Vault's AWS auth.</summary>
internal static class AwsCredentialChain
{
    /// <summary>The SDK's default chain: environment, shared profile, web identity, ECS container, EC2 instance role.</summary>
    public static AWSCredentials Default()
    {
        try
        {
            return DefaultAWSCredentialsIdentityResolver.GetCredentials();
        }
        catch (AmazonClientException e)
        {
            throw new BackendException(PluginErrorCodes.Denied, $"no AWS credentials: {e.Message}");
        }
    }

    /// <summary>The current keys; a chain that cannot answer now (an instance endpoint down) is transient.</summary>
    public static async Task<ImmutableCredentials> ResolveAsync(AWSCredentials credentials)
    {
        try
        {
            return await credentials.GetCredentialsAsync();
        }
        catch (AmazonClientException e)
        {
            throw new BackendException(PluginErrorCodes.Unavailable, $"no AWS credentials: {e.Message}");
        }
    }
}
