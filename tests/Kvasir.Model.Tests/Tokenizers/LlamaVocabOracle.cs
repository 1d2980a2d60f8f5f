using System.Runtime.InteropServices;
using System.Text;
using Kvasir.Model.Gguf;
using Kvasir.Model.Tokenizers;
using LLama.Native;

namespace Kvasir.Model.Tests.Tokenizers;

/// <summary>
/// llama.cpp (through LLamaSharp's native library) with a vocabulary loaded vocab-only from a GGUF file we
/// write: the oracle for tokenization. Calls llama_tokenize, llama_token_to_piece, llama_detokenize and
/// llama_vocab_is_eog through function pointers taken from the library LLamaSharp loaded.
/// </summary>
internal sealed unsafe class LlamaVocabOracle : IDisposable
{
    private static readonly object Gate = new();
    private static Functions? _functions;

    private readonly SafeLlamaModelHandle _model;
    private readonly IntPtr _vocab;

    private LlamaVocabOracle(SafeLlamaModelHandle model)
    {
        _model = model;
        _vocab = F.GetVocab(model.DangerousGetHandle());
        VocabSize = F.NTokens(_vocab);
    }

    public int VocabSize { get; }

    private static Functions F => _functions ?? throw new InvalidOperationException("Not loaded.");

    /// <summary>Writes <paramref name="vocab"/> into a metadata-only GGUF (llama architecture) and loads it vocab-only.</summary>
    public static LlamaVocabOracle Load(TokenizerVocab vocab)
    {
        lock (Gate)
        {
            if (_functions is null)
            {
                NativeApi.llama_empty_call();
                NativeLogConfig.llama_log_set((LLamaLogLevel _, string _) => { });
                // The handle LLamaSharp's own import resolver gives for "llama": the library it loaded.
                _functions = new Functions(NativeLibrary.Load("llama", typeof(NativeApi).Assembly, null));
            }
        }

        var path = Path.Combine(Path.GetTempPath(), $"kvasir-vocab-{Guid.NewGuid():N}.gguf");
        try
        {
            WriteGguf(vocab, path);
            var parameters = LLamaModelParams.Default();
            parameters.vocab_only = true;
            return new LlamaVocabOracle(SafeLlamaModelHandle.LoadFromFile(path, parameters));
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static void WriteGguf(TokenizerVocab vocab, string path)
    {
        var writer = new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("general.name", "kvasir-tokenizer-test")
            .Add("llama.context_length", 256u)
            .Add("llama.embedding_length", 64u)
            .Add("llama.block_count", 1u)
            .Add("llama.feed_forward_length", 128u)
            .Add("llama.attention.head_count", 4u)
            .Add("llama.attention.head_count_kv", 4u)
            .Add("llama.attention.layer_norm_rms_epsilon", 1e-5f)
            .Add("llama.rope.dimension_count", 16u)
            .Add("llama.vocab_size", (uint)vocab.Count);
        foreach (var (key, value) in vocab.ToGgufMetadata())
        {
            writer.Add(key, value);
        }

        writer.Write(path);
    }

    public int[] Tokenize(string text, bool addSpecial, bool parseSpecial)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        var tokens = new int[utf8.Length + 8];
        fixed (byte* t = utf8)
        fixed (int* o = tokens)
        {
            var n = F.Tokenize(_vocab, t, utf8.Length, o, tokens.Length, B(addSpecial), B(parseSpecial));
            if (n < 0)
            {
                throw new InvalidOperationException($"llama_tokenize needs {-n} tokens.");
            }

            return tokens[..n];
        }
    }

    public byte[] TokenToPiece(int id, bool special, int lstrip = 0)
    {
        var buffer = new byte[256];
        fixed (byte* b = buffer)
        {
            var n = F.TokenToPiece(_vocab, id, b, buffer.Length, lstrip, B(special));
            if (n < 0)
            {
                throw new InvalidOperationException($"llama_token_to_piece needs {-n} bytes.");
            }

            return buffer[..n];
        }
    }

    public byte[] Detokenize(int[] ids, bool removeSpecial, bool unparseSpecial)
    {
        var buffer = new byte[ids.Length * 64 + 64];
        fixed (int* t = ids)
        fixed (byte* b = buffer)
        {
            var n = F.Detokenize(_vocab, t, ids.Length, b, buffer.Length, B(removeSpecial), B(unparseSpecial));
            if (n < 0)
            {
                throw new InvalidOperationException($"llama_detokenize needs {-n} bytes.");
            }

            return buffer[..n];
        }
    }

    public bool IsEndOfGeneration(int id) => F.IsEog(_vocab, id) != 0;

    public int Bos => F.Bos(_vocab);

    public int Eos => F.Eos(_vocab);

    public int Eot => F.Eot(_vocab);

    public bool AddBos => F.AddBos(_vocab) != 0;

    public bool AddEos => F.AddEos(_vocab) != 0;

    public void Dispose() => _model.Dispose();

    private static byte B(bool value) => value ? (byte)1 : (byte)0;

    private sealed class Functions
    {
        public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr> GetVocab;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, int> NTokens;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, byte*, int, int*, int, byte, byte, int> Tokenize;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, int, byte*, int, int, byte, int> TokenToPiece;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, int*, int, byte*, int, byte, byte, int> Detokenize;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, int, byte> IsEog;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, int> Bos;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, int> Eos;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, int> Eot;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, byte> AddBos;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, byte> AddEos;

        public Functions(IntPtr library)
        {
            GetVocab = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)Export(library, "llama_model_get_vocab");
            NTokens = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(library, "llama_vocab_n_tokens");
            Tokenize = (delegate* unmanaged[Cdecl]<IntPtr, byte*, int, int*, int, byte, byte, int>)Export(library, "llama_tokenize");
            TokenToPiece = (delegate* unmanaged[Cdecl]<IntPtr, int, byte*, int, int, byte, int>)Export(library, "llama_token_to_piece");
            Detokenize = (delegate* unmanaged[Cdecl]<IntPtr, int*, int, byte*, int, byte, byte, int>)Export(library, "llama_detokenize");
            IsEog = (delegate* unmanaged[Cdecl]<IntPtr, int, byte>)Export(library, "llama_vocab_is_eog");
            Bos = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(library, "llama_vocab_bos");
            Eos = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(library, "llama_vocab_eos");
            Eot = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(library, "llama_vocab_eot");
            AddBos = (delegate* unmanaged[Cdecl]<IntPtr, byte>)Export(library, "llama_vocab_get_add_bos");
            AddEos = (delegate* unmanaged[Cdecl]<IntPtr, byte>)Export(library, "llama_vocab_get_add_eos");
        }

        private static IntPtr Export(IntPtr library, string name) => NativeLibrary.GetExport(library, name);
    }
}
