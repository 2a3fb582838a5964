using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Dso.Ipc;

namespace Dso.Cli.Agent;

/// <summary>
/// The CLI's side of the IPC protocol: HTTP/JSON over the agent's Unix socket, with the version
/// handshake done on connect. <see cref="TryConnectAsync"/> returns null when no agent runs.
/// </summary>
internal sealed class AgentClient : IDisposable
{
    private readonly HttpClient _http;

    private AgentClient(string socketPath, HttpClient http, HandshakeResponse handshake)
    {
        SocketPath = socketPath;
        _http = http;
        Handshake = handshake;
    }

    public string SocketPath { get; }

    public HandshakeResponse Handshake { get; }

    /// <summary>Connects and shakes hands; null when nothing listens on the socket (local mode).</summary>
    public static async Task<AgentClient?> TryConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(socketPath))
        {
            return null;
        }

        var http = UnixSocketHttp.Create(socketPath);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var response = await http.GetAsync("/v1/handshake", timeout.Token);
            if (response.StatusCode == HttpStatusCode.Forbidden)
            {
                throw new DsoException($"the agent at {socketPath} refused this user: {await ErrorOf(response, timeout.Token)}");
            }

            await EnsureSuccessAsync(response, timeout.Token);
            var handshake = await response.Content.ReadFromJsonAsync(IpcJson.Wire.HandshakeResponse, timeout.Token)
                ?? throw new DsoException($"the agent at {socketPath} sent an empty handshake");
            if (handshake.ApiVersion != IpcProtocol.Version)
            {
                throw new DsoException(handshake.ApiVersion > IpcProtocol.Version
                    ? $"the agent at {socketPath} (DSO {handshake.AgentVersion}) speaks IPC version {handshake.ApiVersion}, newer than this docker-dso ({IpcProtocol.Version}); upgrade docker-dso"
                    : $"the agent at {socketPath} (DSO {handshake.AgentVersion}) speaks IPC version {handshake.ApiVersion}, older than this docker-dso ({IpcProtocol.Version}); upgrade the agent");
            }

            return new AgentClient(socketPath, http, handshake);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.AddressNotAvailable })
        {
            http.Dispose();
            return null;
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AccessDenied })
        {
            http.Dispose();
            throw new DsoException(Denied(socketPath));
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <summary>Why a user outside the socket's group cannot talk to the agent, and what to do.</summary>
    private static string Denied(string socketPath)
    {
        string? group = null;
        try
        {
            group = Dso.Native.UnixGroups.NameOf(Dso.Native.UnixFiles.Ownership(socketPath).Gid);
        }
        catch (IOException)
        {
        }

        return group is null
            ? $"cannot open the agent's socket {socketPath}: permission denied; it admits root and the members of its group (ls -l {socketPath}), or run the command with sudo"
            : $"cannot open the agent's socket {socketPath}: permission denied; it admits root and members of group {group}: sudo usermod -aG {group} $USER, then log in again (or run the command with sudo)";
    }

    public Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        Guarded(async () =>
        {
            using var response = await _http.GetAsync(path, cancellationToken);
            await EnsureSuccessAsync(response, cancellationToken);
            return (await response.Content.ReadFromJsonAsync(type, cancellationToken))!;
        });

    public Task<TResponse> PostAsync<TRequest, TResponse>(string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken) =>
        Guarded(async () =>
        {
            using var response = await _http.PostAsJsonAsync(path, body, requestType, cancellationToken);
            await EnsureSuccessAsync(response, cancellationToken);
            return (await response.Content.ReadFromJsonAsync(responseType, cancellationToken))!;
        });

    public Task DeleteAsync(string path, CancellationToken cancellationToken) =>
        Guarded(async () =>
        {
            using var response = await _http.DeleteAsync(path, cancellationToken);
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                await EnsureSuccessAsync(response, cancellationToken);
            }

            return true;
        });

    /// <summary>A call whose connection breaks (the agent stopped or was killed mid-request) fails with one line, not a stack trace.</summary>
    private async Task<T> Guarded<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
        {
            throw new DsoException($"lost the connection to the agent at {SocketPath} ({e.Message.TrimEnd('.')}); it may have stopped: 'docker dso status' says whether it runs, its log says why");
        }
    }

    /// <summary>The agent's live events (server-sent events) until cancelled or the agent stops.</summary>
    public IAsyncEnumerable<AgentEvent> EventsAsync(CancellationToken cancellationToken) => ReadEventsAsync(_http, cancellationToken);

    /// <summary>
    /// The same event stream from the agent's REST address (`/v1/events`, served on both channels),
    /// for hosts where the socket or journald is out of reach.
    /// </summary>
    public static async IAsyncEnumerable<AgentEvent> RestEventsAsync(Uri address, string? token, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        IAsyncEnumerator<AgentEvent> events;
        try
        {
            events = ReadEventsAsync(http, cancellationToken).GetAsyncEnumerator(cancellationToken);
            if (!await events.MoveNextAsync())
            {
                yield break;
            }
        }
        catch (HttpRequestException e)
        {
            throw new DsoException($"no agent answers at {address}: {e.Message} (is 'agent.rest' enabled in dso.yaml?)");
        }

        await using (events)
        {
            do
            {
                yield return events.Current;
            }
            while (await events.MoveNextAsync());
        }
    }

    private static async IAsyncEnumerable<AgentEvent> ReadEventsAsync(HttpClient http, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal)
                && JsonSerializer.Deserialize(line["data: ".Length..], IpcJson.Wire.AgentEvent) is { } item)
            {
                yield return item;
            }
        }
    }

    public void Dispose() => _http.Dispose();

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var error = await ReadErrorAsync(response, cancellationToken);
        throw error.Problems is { Count: > 0 } problems
            ? new AgentProblemsException(error.Error, problems)
            : new DsoException($"the agent: {error.Error}");
    }

    private static async Task<string> ErrorOf(HttpResponseMessage response, CancellationToken cancellationToken) =>
        (await ReadErrorAsync(response, cancellationToken)).Error;

    private static async Task<ErrorResponse> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(IpcJson.Wire.ErrorResponse, cancellationToken)
                ?? new ErrorResponse($"HTTP {(int)response.StatusCode}");
        }
        catch (JsonException)
        {
            return new ErrorResponse($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }
}
