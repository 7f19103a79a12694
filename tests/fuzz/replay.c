/*
 * replay.c - the main() a fuzz target is linked with when it is built with
 * a plain compiler instead of libFuzzer: it runs every file named on the
 * command line (or found directly inside a named directory) once, so make
 * check replays each corpus under the sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf), fp);
	if (ferror(fp)) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

/* A file, or every file directly inside a directory. */
static int
run_path(const char *path, int *count)
{
	char sub[4096];
	struct dirent *de;
	DIR *dir;
	int rc = 0, n;

	if ((dir = opendir(path)) == NULL) {
		if (run_file(path) < 0)
			return -1;
		++*count;
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(sub) || run_file(sub) < 0) {
			fprintf(stderr, "replay: cannot read %s/%s\n", path, de->d_name);
			rc = -1;
			continue;
		}
		++*count;
	}
	closedir(dir);
	return rc;
}

int
main(int argc, char **argv)
{
	int i, count = 0, rc = 0;

	for (i = 1; i < argc; i++)
		if (run_path(argv[i], &count) < 0) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			rc = 1;
		}
	printf("%s: %d inputs replayed\n", argv[0], count);
	return rc;
}
