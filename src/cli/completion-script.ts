export type CompletionShell = 'bash' | 'zsh';

/**
 * The shell side of yargs' completion: each script hands the words typed so far to
 * `mailferry --get-yargs-completions`, which answers from the same option tables as --help.
 * yargs' own script picks its shell from $SHELL; this one is chosen by the caller, who may be
 * generating the zsh script from bash.
 */
export function completionScript(shell: CompletionShell): string {
  return shell === 'zsh' ? ZSH : BASH;
}

const BASH = `###-begin-mailferry-completions-###
# mailferry completion for bash. Install: mailferry completion >> ~/.bashrc
_mailferry_completions()
{
    local cur_word type_list
    cur_word="\${COMP_WORDS[COMP_CWORD]}"
    mapfile -t type_list < <(mailferry --get-yargs-completions "\${COMP_WORDS[@]:0:COMP_CWORD+1}")
    mapfile -t COMPREPLY < <(compgen -W "\${type_list[*]}" -- "\${cur_word}")
    return 0
}
complete -o bashdefault -o default -F _mailferry_completions mailferry
###-end-mailferry-completions-###`;

// SHELL=zsh makes yargs answer 'name:description' pairs, which _describe shows.
const ZSH = `#compdef mailferry
###-begin-mailferry-completions-###
# mailferry completion for zsh. Install: mailferry completion --shell zsh > "\${fpath[1]}/_mailferry"
_mailferry_completions()
{
  local reply
  local si=$IFS
  IFS=$'\\n' reply=($(SHELL=zsh mailferry --get-yargs-completions "\${(@)words[1,CURRENT]}"))
  IFS=$si
  if [[ \${#reply} -gt 0 ]]; then
    _describe 'values' reply
  else
    _default
  fi
}
if [[ "\${zsh_eval_context[-1]}" == "loadautofunc" ]]; then
  _mailferry_completions "$@"
else
  compdef _mailferry_completions mailferry
fi
###-end-mailferry-completions-###`;
