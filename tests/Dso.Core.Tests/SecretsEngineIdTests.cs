using Dso.Configuration;
using Dso.Secrets;

namespace Dso.Core.Tests;

/// <summary>Docker Secrets Engine ids and patterns (`se://ID`), and dso.yaml's realms that map them to DSO references.</summary>
public sealed class SecretsEngineIdTests
{
    [Theory]
    [InlineData("docker/db/password", "docker/db/password", true)]
    [InlineData("docker/db/*", "docker/db/password", true)]
    [InlineData("docker/*", "docker/db/password", false)]
    [InlineData("docker/**", "docker/db/password", true)]
    [InlineData("docker/**", "docker", true)]
    [InlineData("**", "a/b/c", true)]
    [InlineData("**/password", "docker/db/password", true)]
    [InlineData("**/password", "password", true)]
    [InlineData("docker/**/password", "docker/password", true)]
    [InlineData("docker/**/password", "docker/db/x/password", true)]
    [InlineData("docker/**/password", "docker/db/user", false)]
    [InlineData("*/db/*", "docker/db/user", true)]
    [InlineData("*/db/*", "docker/db", false)]
    [InlineData("docker/db", "docker/db/password", false)]
    [InlineData("Docker/db", "docker/db", false)]
    public void Patterns_MatchWholeComponents(string pattern, string id, bool matches)
    {
        Assert.Null(SecretsEngineId.PatternProblem(pattern));
        Assert.Null(SecretsEngineId.IdProblem(id));
        Assert.Equal(matches, SecretsEngineId.Matches(pattern, id));
    }

    [Fact]
    public void ManyDoubleStars_MatchInTimeProportionalToTheComponents()
    {
        var pattern = string.Join('/', Enumerable.Repeat("**", 100)) + "/z";
        var id = string.Join('/', Enumerable.Repeat("a", 200));
        Assert.False(SecretsEngineId.Matches(pattern, id));
        Assert.True(SecretsEngineId.Matches(pattern, id + "/z"));
    }

    [Theory]
    [InlineData("", "the pattern is empty")]
    [InlineData("docker/db*", "has the component 'db*'; a wildcard is a whole component")]
    [InlineData("docker/***", "has the component '***'")]
    [InlineData("/docker", "has an empty component")]
    [InlineData("docker/", "has an empty component")]
    [InlineData("docker db", "has the character ' '")]
    public void BadPatterns_SayWhy(string pattern, string problem)
    {
        Assert.Contains(problem, SecretsEngineId.PatternProblem(pattern), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("se://docker/db/password", "docker/db/password", "")]
    [InlineData("se://team:ops/token_1.2-x", "team:ops/token_1.2-x", "")]
    [InlineData("se://docker/*", "", "has the character '*'")]
    [InlineData("se://", "", "the id is empty")]
    [InlineData("se://a//b", "", "has an empty component")]
    public void References_AreSeSchemeAndOneId(string text, string id, string problem)
    {
        var ok = SecretsEngineId.TryParseReference(text, out var parsed, out var why);
        Assert.Equal(problem.Length == 0, ok);
        if (ok)
        {
            Assert.Equal(id, parsed);
        }
        else
        {
            Assert.Contains(problem, why, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("docker/db/password", "dso://aws:prod/db/password", "docker/db/**")]
    [InlineData("docker/db", "dso://aws:prod/db", "docker/db/**")]
    [InlineData("docker/db/nested/key", "dso://aws:prod/db/nested/key", "docker/db/**")]
    [InlineData("docker/api/token", "dso://never:docker/api/token", "docker/**")]
    [InlineData("team/x/cert", "dso://local:certs/x/cert", "team/*/cert")]
    [InlineData("anything/else", "dso://anything/else", "**")]
    public void Realms_FirstMatchWins_PathReplacesTheLiteralStart(string id, string reference, string realm)
    {
        var config = new DsoConfig();
        config.Realms["docker/db/**"] = new RealmConfig { Provider = "aws", Path = "prod/db" };
        config.Realms["docker/**"] = new RealmConfig { Provider = "never" };
        config.Realms["docker/api/token"] = new RealmConfig { Path = "api-token" };
        config.Realms["team/*/cert"] = new RealmConfig { Provider = "local", Path = "certs" };
        var map = RealmMap.From(config);

        Assert.True(map.TryMap(id, out var mapped, out var chose, out var problem), problem);
        Assert.Equal(reference, mapped.ToString());
        Assert.Equal(realm, chose);
    }

    [Fact]
    public void Realms_ExactIdsAreTheOnesWithoutWildcards_AndAColonNeedsARealm()
    {
        var config = new DsoConfig();
        config.Realms["docker/**"] = new RealmConfig();
        config.Realms["docker/api/token"] = new RealmConfig { Path = "api-token" };
        var map = RealmMap.From(config);

        Assert.Equal(["docker/api/token"], map.ExactIds);
        Assert.False(map.TryMap("team:ops/token", out _, out _, out var problem));
        Assert.Equal("se://team:ops/token maps to the path 'team:ops/token' (realms \"**\"), and ':' cannot be part of a provider path; map the id to a path with realms: in dso.yaml", problem);
    }
}
