# web/web: the static web app web (platformgen area: web), served from its S3
# bucket through CloudFront at /. The root Makefile includes this file.
#   make build     runs WEB_BUILD_web in web/web/ (default: npm ci, npm run build)
#   make publish   uploads WEB_DIST_web once per commit to the artifact bucket
#   make deploy    ENV=<env> RELEASE=<git sha>: those files to the environment's bucket,
#                  then a CloudFront invalidation of /
# Put the app's source in web/web/ (a package.json with a build script), or set the
# two variables for another toolchain.
WEB_BUILD_web ?= npm ci && npm run build
WEB_DIST_web ?= web/web/dist
BUILD_TARGETS += web-web-build
PUBLISH_TARGETS += web-web-publish
DEPLOY_TARGETS += web-web-deploy

.PHONY: web-web-build web-web-publish web-web-deploy
web-web-build: ## web: build the static files (WEB_BUILD_web in web/web/)
	@test -f web/web/package.json || test "$(origin WEB_BUILD_web)" != file \
	  || { echo "web/web/package.json is missing: put web's source in web/web/, or set WEB_BUILD_web" >&2; exit 2; }
	cd web/web && $(WEB_BUILD_web)

web-web-publish: ## web: upload this commit's build to the artifact bucket, once
	bash delivery/publish-static.sh web $(WEB_DIST_web)

web-web-deploy: require-env delivery-release ## web: the files of RELEASE to ENV's bucket, then invalidate CloudFront
	bash delivery/deploy-static.sh web
