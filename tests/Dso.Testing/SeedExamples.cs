namespace Dso.Testing;

/// <summary>Examples of the original project's documents that more than one test project loads, kept exactly as the document prints them.</summary>
public static class SeedExamples
{
    /// <summary>Seed 002 (README, "Cloud Mode — AWS Example"), lines 182–225.</summary>
    public const string ReadmeAwsConfig = """
        # /etc/dso/dso.yaml
        version: v1.0.0
        mode: agent

        providers:
          aws:
            type: aws
            region: us-east-1
            auth:
              method: iam_role        # Uses EC2 instance role — no credentials in config
            retry:
              attempts: 3
              backoff: "1s"

        agent:
          cache: true
          watch:
            mode: polling
            polling_interval: "30s"   # How often to check for secret changes
          rotation:
            enabled: true
            strategy: rolling         # Zero-downtime blue-green swap (default)
            health_check_timeout: "30s"

        defaults:
          inject:
            type: env
          rotation:
            enabled: true
            strategy: rolling

        secrets:
          - name: database_credentials
            provider: aws
            rotation:
              enabled: true
              strategy: rolling       # rolling | restart | signal | none
            targets:
              containers:
                - mysql               # Container name (matches dso.reloader label)
            mappings:
              MYSQL_ROOT_PASSWORD: prod/mysql/root_password
              MYSQL_PASSWORD: prod/mysql/app_password
        """;
}
