namespace Kvasir.Model.Tokenizers;

/// <summary>Special tokens: which ones end generation, and splitting their texts out of the input.</summary>
public abstract partial class Tokenizer
{
    private const TokenAttributes SpecialAttributes = TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown;

    // The texts llama.cpp (llama-vocab.cpp, load) recognises when the vocabulary does not name the tokens.
    private static readonly string[] EndOfTurnTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
        "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ];

    private static readonly string[][] FillInTheMiddleTexts =
    [
        ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"],
        ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"],
        ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"],
    ];

    // Pad, repo and file-separator fill-in-the-middle tokens also end generation.
    private static readonly string[][] FillInTheMiddleEndTexts =
    [
        ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"],
        ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"],
        ["<|file_sep|>"],
    ];

    private static readonly string[] EndOfGenerationTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>",
        "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
        "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ];

    private readonly bool[] _endOfGeneration;
    private readonly int[] _specialOrder;

    private readonly record struct Fragment(int Token, int Start, int Length);

    // Mirrors llama.cpp's auto-detection: tokens found by text get the control bit; returns the EOG flags.
    private bool[] DetectSpecialTokens(TokenizerVocab vocab, out int? endOfTurn)
    {
        var eog = new bool[_texts.Length];
        endOfTurn = vocab.EotId is null ? FindFirst(EndOfTurnTexts, markControl: true) : null;
        var endOfMessage = FindFirst(["<|eom_id|>"], markControl: true);
        foreach (var texts in FillInTheMiddleTexts)
        {
            FindFirst(texts, markControl: true);
        }

        foreach (var texts in FillInTheMiddleEndTexts)
        {
            if (FindFirst(texts, markControl: true) is int id)
            {
                eog[id] = true;
            }
        }

        foreach (var text in EndOfGenerationTexts)
        {
            if (_ids.TryGetValue(text, out var id))
            {
                eog[id] = true;
                _attributes[id] |= TokenAttributes.Control;
            }
        }

        // gpt-oss: these are rendered, never treated as control.
        foreach (var text in (ReadOnlySpan<string>)["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"])
        {
            if (_ids.TryGetValue(text, out var id))
            {
                _attributes[id] = TokenAttributes.UserDefined;
            }
        }

        foreach (var id in (ReadOnlySpan<int?>)[vocab.EosId >= 0 ? vocab.EosId : null, vocab.EotId ?? endOfTurn, endOfMessage])
        {
            if (id is int value)
            {
                eog[value] = true;
            }
        }

        // llama.cpp's workarounds: with <|return|> and <|call|> (or <|calls|> and <|flush|>), <|end|> does not
        // end generation; with <|tool_response>, </s> does not.
        if (Has("<|end|>", out var end) && eog[end]
            && ((Has("<|return|>", out _) && (Has("<|call|>", out _) || Has("<|calls|>", out _))) || (Has("<|calls|>", out _) && Has("<|flush|>", out _))))
        {
            eog[end] = false;
            _attributes[end] = TokenAttributes.UserDefined;
        }

        if (Has("<|tool_response>", out _) && Has("</s>", out var s) && eog[s])
        {
            eog[s] = false;
            _attributes[s] = TokenAttributes.Normal;
        }

        return eog;

        bool Has(string text, out int id) => _ids.TryGetValue(text, out id);
    }

    // llama.cpp walks a hash map, so when several candidates exist which one it picks is unspecified; we take the lowest id.
    private int? FindFirst(string[] texts, bool markControl)
    {
        int? best = null;
        foreach (var text in texts)
        {
            if (_ids.TryGetValue(text, out var id) && (best is null || id < best))
            {
                best = id;
            }
        }

        if (best is int found && markControl)
        {
            _attributes[found] |= TokenAttributes.Control;
        }

        return best;
    }

    // Control, user-defined and unknown tokens, longest text first (ties by id), the order in which llama.cpp splits them out.
    private int[] SpecialTokensLongestFirst()
    {
        var ids = new List<int>();
        for (var id = 0; id < _texts.Length; id++)
        {
            if ((_attributes[id] & SpecialAttributes) != 0)
            {
                ids.Add(id);
            }
        }

        ids.Sort((a, b) => _texts[a].Length != _texts[b].Length ? _texts[b].Length.CompareTo(_texts[a].Length) : a.CompareTo(b));
        return [.. ids];
    }

    // llama.cpp's tokenizer_st_partition: for each special token in turn, split every remaining text fragment
    // at each occurrence of its text. Without parseSpecial only user-defined tokens are split out.
    private List<Fragment> Partition(string text, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0)
        {
            return fragments;
        }

        fragments.Add(new Fragment(-1, 0, text.Length));
        List<Fragment>? next = null;
        foreach (var id in _specialOrder)
        {
            if (!parseSpecial && (_attributes[id] & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0)
            {
                continue;
            }

            var special = _texts[id];
            if (!text.Contains(special, StringComparison.Ordinal))
            {
                continue;
            }

            next ??= new List<Fragment>(fragments.Count + 4);
            next.Clear();
            foreach (var fragment in fragments)
            {
                if (fragment.Token >= 0)
                {
                    next.Add(fragment);
                    continue;
                }

                var pos = fragment.Start;
                var end = fragment.Start + fragment.Length;
                while (pos < end)
                {
                    var match = text.AsSpan(pos, end - pos).IndexOf(special.AsSpan(), StringComparison.Ordinal);
                    if (match < 0)
                    {
                        next.Add(new Fragment(-1, pos, end - pos));
                        break;
                    }

                    if (match > 0)
                    {
                        next.Add(new Fragment(-1, pos, match));
                    }

                    next.Add(new Fragment(id, 0, 0));
                    pos += match + special.Length;
                }
            }

            (fragments, next) = (next, fragments);
        }

        return fragments;
    }
}
