// Parses each .avsc file named on the command line on its own with Apache Avro for Java (a fresh parser per file,
// so no file can lean on a type another one defined) and prints one line per file: "ok <file> <parsing canonical
// form>", or "error <file> <message>". Run by tests/schemas/test_published.py as a single-file source program.
import java.io.File;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

public class ParseSchemas {
    public static void main(String[] args) {
        int failed = 0;
        for (String path : args) {
            try {
                Schema schema = new Schema.Parser().parse(new File(path));
                System.out.println("ok " + path + " " + SchemaNormalization.toParsingForm(schema));
            } catch (Exception e) {
                failed++;
                System.out.println("error " + path + " " + e.getClass().getSimpleName() + ": "
                        + String.valueOf(e.getMessage()).replace('\n', ' '));
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }
}
