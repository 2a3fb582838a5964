using System.CommandLine;

namespace Dso.Cli.Commands;

/// <summary>
/// `docker dso completion bash|zsh|fish`: a script that completes `docker-dso …` and `docker dso …`
/// by asking this executable (System.CommandLine's `[suggest:POSITION]` directive), so the
/// completions always match the installed version's commands and options.
/// </summary>
internal sealed class CompletionCommand : DsoCommand
{
    private static readonly string[] Shells = ["bash", "zsh", "fish"];
    private readonly Argument<string> _shell = new("shell") { Description = "bash, zsh or fish" };

    public CompletionCommand(CliContext context)
        : base(context, "completion", "Print a shell completion script (bash, zsh or fish) for docker-dso and docker dso.")
    {
        _shell.CompletionSources.Add(_ => Shells.Select(s => new System.CommandLine.Completions.CompletionItem(s)));
        Arguments.Add(_shell);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var self = Quote(Environment.ProcessPath ?? "docker-dso");
        Context.Out.Write(parseResult.GetValue(_shell) switch
        {
            "bash" => Bash(self),
            "zsh" => Zsh(self),
            "fish" => Fish(self),
            var other => throw new UsageException($"completion: '{other}' is not a shell DSO completes (bash, zsh or fish)"),
        });
        return Task.FromResult(ExitCodes.Success);
    }

    private static string Quote(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string Bash(string self) => $$"""
        # bash completion for docker-dso and `docker dso` (from `docker dso completion bash`).
        # Load it with: source <(docker dso completion bash)   (or save it in ~/.local/share/bash-completion/completions/docker-dso)
        __dso_suggest() {
          {{self}} "[suggest:${#1}]" "$1" 2>/dev/null
        }
        __dso_reply() {
          local line="$1" cur="${COMP_WORDS[COMP_CWORD]}"
          local IFS=$'\n'
          COMPREPLY=($(compgen -W "$(__dso_suggest "$line")" -- "$cur"))
        }
        _docker_dso() {
          local line="${COMP_LINE:0:COMP_POINT}"
          line="${line#*docker-dso}"
          __dso_reply "${line# }"
        }
        complete -o default -F _docker_dso docker-dso
        # `docker dso …` is completed here; every other `docker …` by Docker's own completion.
        _docker_dso_or_docker() {
          if [ "$COMP_CWORD" -ge 2 ] && [ "${COMP_WORDS[1]}" = dso ]; then
            local line="${COMP_LINE:0:COMP_POINT}"
            line="${line#*dso}"
            __dso_reply "${line# }"
            return
          fi
          if ! declare -F _docker >/dev/null && [ -r /usr/share/bash-completion/completions/docker ]; then
            . /usr/share/bash-completion/completions/docker
            complete -o default -F _docker_dso_or_docker docker
          fi
          if declare -F _docker >/dev/null; then
            _docker "$@"
          fi
        }
        complete -o default -F _docker_dso_or_docker docker

        """;

    private static string Zsh(string self) => $$"""
        #compdef docker-dso
        # zsh completion for docker-dso and `docker dso` (from `docker dso completion zsh`).
        # Load it with: source <(docker dso completion zsh)   (after compinit)
        __dso_suggest() {
          {{self}} "[suggest:${#1}]" "$1" 2>/dev/null
        }
        _docker_dso() {
          local line="${BUFFER[1,CURSOR]}"
          line="${line#*docker-dso}"
          line="${line# }"
          local -a suggestions
          suggestions=("${(@f)$(__dso_suggest "$line")}")
          compadd -- "${suggestions[@]}"
        }
        compdef _docker_dso docker-dso
        (( $+functions[_docker] )) || autoload -Uz _docker 2>/dev/null
        _docker_dso_or_docker() {
          if (( CURRENT > 2 )) && [[ "${words[2]}" == dso ]]; then
            local line="${BUFFER[1,CURSOR]}"
            line="${line#*dso}"
            line="${line# }"
            local -a suggestions
            suggestions=("${(@f)$(__dso_suggest "$line")}")
            compadd -- "${suggestions[@]}"
          elif (( $+functions[_docker] )); then
            _docker "$@"
          fi
        }
        compdef _docker_dso_or_docker docker

        """;

    private static string Fish(string self) => $$"""
        # fish completion for docker-dso and `docker dso` (from `docker dso completion fish`).
        # Load it with: docker dso completion fish | source   (or save it in ~/.config/fish/completions/docker-dso.fish)
        function __dso_suggest
            set -l line (commandline -cp | string replace -r '^\s*(docker-dso|docker\s+dso)\s*' '')
            {{self}} "[suggest:"(string length -- "$line")"]" "$line" 2>/dev/null
        end
        complete -c docker-dso -f -a '(__dso_suggest)'
        complete -c docker -n '__fish_seen_subcommand_from dso' -f -a '(__dso_suggest)'

        """;
}
