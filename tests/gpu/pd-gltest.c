// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-gltest: render a known scene with OpenGL ES 2 through Mesa on a DRM
 * render node and read its pixels back.
 *
 *   pd-gltest [-n FRAMES] /dev/dri/renderDN
 *
 * A GBM device on the node, an EGL display on it (EGL_PLATFORM_GBM_KHR),
 * a GLES2 context current without a surface (EGL_KHR_surfaceless_context),
 * and a 64x64 RGBA texture as the framebuffer object's colour. The scene:
 * cleared to blue, then a triangle drawn by a shader in orange over the
 * lower left half (the corners (0,0), (64,0), (0,64) of the framebuffer).
 * glReadPixels then reads it back. With -n, the scene is drawn FRAMES
 * times, each finished with glFinish, and the time per frame printed.
 *
 * Output, one item a line: the vendor, renderer and version strings, one
 * "pixel X,Y R G B A want R G B A" line per probe, the frame time, and
 * last "ok" when every probe matched (within 1 of each channel, for
 * rounding of 0.5) or "bad". Exit status 0 for ok, 1 for bad, 2 when
 * something could not be set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <gbm.h>

#define SIZE 64
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char vertex_src[] =
	"attribute vec2 pos;\n"
	"void main() { gl_Position = vec4(pos, 0.0, 1.0); }\n";
static const char fragment_src[] =
	"precision mediump float;\n"
	"uniform vec4 colour;\n"
	"void main() { gl_FragColor = colour; }\n";

static const GLfloat clear_rgba[4] = { 0.0f, 0.0f, 1.0f, 1.0f };
static const GLfloat triangle_rgba[4] = { 1.0f, 0.5f, 0.0f, 1.0f };

struct probe {
	int x, y;		/* glReadPixels coordinates: origin bottom left */
	int inside;		/* in the triangle, else the clear colour */
};

/* Pixel centres well away from the triangle's diagonal x + y = 64. */
static const struct probe probes[] = {
	{ 8, 8, 1 }, { 50, 6, 1 }, { 6, 50, 1 }, { 24, 24, 1 },
	{ 40, 40, 0 }, { 56, 56, 0 }, { 63, 63, 0 }, { 60, 20, 0 },
};

static int fail(const char *what)
{
	fprintf(stderr, "pd-gltest: %s\n", what);
	return 2;
}

static int egl_fail(const char *what)
{
	fprintf(stderr, "pd-gltest: %s failed: EGL error 0x%x\n", what,
		eglGetError());
	return 2;
}

static int has_ext(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (list && (p = strstr(p, name))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

static GLuint compile(GLenum type, const char *src)
{
	GLuint s = glCreateShader(type);
	GLint ok = 0;
	char log[512];

	glShaderSource(s, 1, &src, NULL);
	glCompileShader(s);
	glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		glGetShaderInfoLog(s, sizeof(log), NULL, log);
		fprintf(stderr, "pd-gltest: shader: %s\n", log);
		return 0;
	}
	return s;
}

static GLuint program(void)
{
	GLuint vs = compile(GL_VERTEX_SHADER, vertex_src);
	GLuint fs = compile(GL_FRAGMENT_SHADER, fragment_src);
	GLuint p;
	GLint ok = 0;

	if (!vs || !fs)
		return 0;
	p = glCreateProgram();
	glAttachShader(p, vs);
	glAttachShader(p, fs);
	glBindAttribLocation(p, 0, "pos");
	glLinkProgram(p);
	glGetProgramiv(p, GL_LINK_STATUS, &ok);
	glDeleteShader(vs);
	glDeleteShader(fs);
	if (!ok) {
		fprintf(stderr, "pd-gltest: the program does not link\n");
		return 0;
	}
	return p;
}

static void draw(GLuint prog, GLint colour)
{
	static const GLfloat triangle[] = { -1, -1, 1, -1, -1, 1 };

	glViewport(0, 0, SIZE, SIZE);
	glClearColor(clear_rgba[0], clear_rgba[1], clear_rgba[2],
		     clear_rgba[3]);
	glClear(GL_COLOR_BUFFER_BIT);
	glUseProgram(prog);
	glUniform4fv(colour, 1, triangle_rgba);
	glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, triangle);
	glEnableVertexAttribArray(0);
	glDrawArrays(GL_TRIANGLES, 0, 3);
}

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Draw, read back, compare; returns the number of probes that differ. */
static int check(GLuint prog, GLint colour, int frames)
{
	static unsigned char pixels[SIZE * SIZE * 4];
	double t0;
	int bad = 0;
	size_t i;
	int f;

	t0 = seconds();
	for (f = 0; f < frames; f++) {
		draw(prog, colour);
		glFinish();
	}
	if (frames > 1)
		printf("frames %d in %.3f s: %.2f ms a frame\n", frames,
		       seconds() - t0, (seconds() - t0) * 1000 / frames);
	glReadPixels(0, 0, SIZE, SIZE, GL_RGBA, GL_UNSIGNED_BYTE, pixels);
	if (glGetError() != GL_NO_ERROR) {
		fprintf(stderr, "pd-gltest: glReadPixels failed\n");
		return ARRAY_SIZE(probes);
	}
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		const struct probe *p = &probes[i];
		const GLfloat *rgba = p->inside ? triangle_rgba : clear_rgba;
		const unsigned char *px = &pixels[(p->y * SIZE + p->x) * 4];
		int want[4], c, same = 1;

		for (c = 0; c < 4; c++) {
			want[c] = (int)(rgba[c] * 255.0f + 0.5f);
			if (abs(px[c] - want[c]) > 1)
				same = 0;
		}
		printf("pixel %d,%d %d %d %d %d want %d %d %d %d%s\n", p->x,
		       p->y, px[0], px[1], px[2], px[3], want[0], want[1],
		       want[2], want[3], same ? "" : " DIFFERENT");
		bad += !same;
	}
	return bad;
}

int main(int argc, char **argv)
{
	static const EGLint ctx_attrs[] = { EGL_CONTEXT_CLIENT_VERSION, 2,
					    EGL_NONE };
	PFNEGLGETPLATFORMDISPLAYEXTPROC get_platform_display;
	struct gbm_device *gbm;
	EGLDisplay dpy;
	EGLContext ctx;
	EGLint major, minor;
	const char *exts;
	GLuint tex, fbo, prog;
	GLint colour;
	int frames = 1, opt, fd, bad;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || (frames = atoi(optarg)) < 1) {
			fprintf(stderr, "usage: pd-gltest [-n FRAMES] "
				"/dev/dri/renderDN\n");
			return 2;
		}
	}
	if (optind + 1 != argc)
		return fail("usage: pd-gltest [-n FRAMES] /dev/dri/renderDN");

	fd = open(argv[optind], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "pd-gltest: %s: %s\n", argv[optind],
			strerror(errno));
		return 2;
	}
	gbm = gbm_create_device(fd);
	if (!gbm)
		return fail("gbm_create_device failed");
	printf("gbm backend %s\n", gbm_device_get_backend_name(gbm));

	exts = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
	if (!has_ext(exts, "EGL_KHR_platform_gbm") &&
	    !has_ext(exts, "EGL_MESA_platform_gbm"))
		return fail("EGL has no GBM platform");
	get_platform_display = (PFNEGLGETPLATFORMDISPLAYEXTPROC)
		eglGetProcAddress("eglGetPlatformDisplayEXT");
	if (!get_platform_display)
		return fail("no eglGetPlatformDisplayEXT");
	dpy = get_platform_display(EGL_PLATFORM_GBM_KHR, gbm, NULL);
	if (dpy == EGL_NO_DISPLAY)
		return egl_fail("eglGetPlatformDisplayEXT");
	if (!eglInitialize(dpy, &major, &minor))
		return egl_fail("eglInitialize");
	printf("EGL %d.%d %s\n", major, minor,
	       eglQueryString(dpy, EGL_VENDOR));
	exts = eglQueryString(dpy, EGL_EXTENSIONS);
	if (!has_ext(exts, "EGL_KHR_surfaceless_context") ||
	    !has_ext(exts, "EGL_KHR_no_config_context"))
		return fail("EGL lacks surfaceless or configless contexts");
	if (!eglBindAPI(EGL_OPENGL_ES_API))
		return egl_fail("eglBindAPI");
	ctx = eglCreateContext(dpy, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT,
			       ctx_attrs);
	if (ctx == EGL_NO_CONTEXT)
		return egl_fail("eglCreateContext");
	if (!eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx))
		return egl_fail("eglMakeCurrent");

	printf("GL_VENDOR %s\n", (const char *)glGetString(GL_VENDOR));
	printf("GL_RENDERER %s\n", (const char *)glGetString(GL_RENDERER));
	printf("GL_VERSION %s\n", (const char *)glGetString(GL_VERSION));

	glGenTextures(1, &tex);
	glBindTexture(GL_TEXTURE_2D, tex);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, SIZE, SIZE, 0, GL_RGBA,
		     GL_UNSIGNED_BYTE, NULL);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
	glGenFramebuffers(1, &fbo);
	glBindFramebuffer(GL_FRAMEBUFFER, fbo);
	glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
			       GL_TEXTURE_2D, tex, 0);
	if (glCheckFramebufferStatus(GL_FRAMEBUFFER) !=
	    GL_FRAMEBUFFER_COMPLETE)
		return fail("the framebuffer object is not complete");
	prog = program();
	if (!prog)
		return 2;
	colour = glGetUniformLocation(prog, "colour");

	bad = check(prog, colour, frames);
	printf("%s\n", bad ? "bad" : "ok");

	glDeleteProgram(prog);
	glDeleteFramebuffers(1, &fbo);
	glDeleteTextures(1, &tex);
	eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	eglDestroyContext(dpy, ctx);
	eglTerminate(dpy);
	gbm_device_destroy(gbm);
	close(fd);
	return bad ? 1 : 0;
}
