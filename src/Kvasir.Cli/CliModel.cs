using Kvasir.Model;
using Kvasir.Model.Gguf;

namespace Kvasir.Cli;

/// <summary>Opening model files from the command line, turning their errors into one clear line.</summary>
internal static class CliModel
{
    public static GgufFile OpenGguf(string path) => Guard(() => GgufFile.Open(path));

    public static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (ModelFormatException e)
        {
            throw new CliException(e.Message);
        }
        catch (FileNotFoundException e)
        {
            throw new CliException(e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CliException(e.Message);
        }
    }
}
